"""Orbax checkpoints of a run's train state in workdir/checkpoints/<step>/.

Orbax writes each step to a temporary folder and renames it, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

TrainState = dict[str, Any]  # {"step": int32 [], "params", "state", "opt_state"}


def manager(workdir: Path, keep: int, create: bool = True) -> ocp.CheckpointManager:
    """The manager of workdir/checkpoints, keeping the `keep` newest steps."""
    options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=create, enable_async_checkpointing=False)
    return ocp.CheckpointManager((Path(workdir) / "checkpoints").absolute(), options=options)


def restore_latest(checkpoints: ocp.CheckpointManager, target: TrainState) -> TrainState | None:
    """The newest checkpoint in target's structure, dtypes and shardings; None if there is none."""
    step = checkpoints.latest_step()
    if step is None:
        return None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    return checkpoints.restore(step, args=ocp.args.StandardRestore(abstract))


def save(checkpoints: ocp.CheckpointManager, step: int, state: TrainState) -> None:
    """Write step's checkpoint and wait until it is on disk."""
    checkpoints.save(step, args=ocp.args.StandardSave(state), force=True)
    checkpoints.wait_until_finished()
