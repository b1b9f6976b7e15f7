"""Checkpoints of a run slot, each able to prove its integrity: workdir/checkpoints/<step>/.

A step is written by orbax into checkpoints/.tmp-<step>/; then the digest of every file in it (sha256 over
names and bytes) is written there as DIGEST_FILE, and only then is the folder renamed to <step>. A folder
named by its step is therefore complete, and its digest says what it held when it was written.

Restoring checks the newest step's digest first. A damaged or incomplete step (a changed byte, a truncated
file, an empty folder, no digest) is reported in one line and the newest intact step is used instead; the
trainer moves the damaged one aside to checkpoints/damaged/ (it is never deleted), readers leave it where it
is. Writers hold an exclusive lock on checkpoints/.lock while they write, rename or delete steps, readers a
shared one while they verify and restore, so a reader never sees a step half written or half removed.

In a multi-process run every process writes its part of each step through orbax, between two barriers;
process 0 alone holds the lock, writes the digest, renames, deletes and sets damaged steps aside.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from jaxgen import distributed

TrainState = dict[str, Any]  # {"step": int32 [], "params", "state", "opt_state"}
DIGEST_FILE = "jaxgen_digest.json"
LOCK_FILE = ".lock"
DAMAGED = "damaged"


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read."""


def digest(folder: Path) -> str:
    """sha256 over the relative path, size and bytes of every file below folder (but the digest itself)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != DIGEST_FILE):
        data = path.read_bytes()
        h.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def damage(folder: Path) -> str | None:
    """Why a step folder cannot be trusted (no digest, or contents that differ from it), or None."""
    record = folder / DIGEST_FILE
    if not record.is_file():
        return "no digest: an incomplete or foreign checkpoint"
    try:
        expected = json.loads(record.read_text())["sha256"]
    except (ValueError, KeyError, TypeError, OSError):
        return "its digest record is unreadable"
    if digest(folder) != expected:
        return "its contents differ from its digest"
    return None


class Checkpoints:
    """The checkpoints of one workdir. Writers (the trainer) create the folder; readers never do."""

    def __init__(self, workdir: Path, keep: int, writer: bool = True, log: Callable[[str], None] = print):
        self.folder, self.keep, self.writer, self.log = Path(workdir) / "checkpoints", keep, writer, log
        self.primary = distributed.is_primary()
        if writer and self.primary:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._locked(fcntl.LOCK_EX):
                for stale in self.folder.glob(".tmp-*"):  # a save that was killed before its rename
                    shutil.rmtree(stale, ignore_errors=True)
                    self.log(f"removed the unfinished checkpoint {stale}")
        self._checkpointer = ocp.Checkpointer(ocp.StandardCheckpointHandler())

    @contextlib.contextmanager
    def _locked(self, mode: int):
        if not self.folder.is_dir() or not self.primary:
            yield
            return
        path = self.folder / LOCK_FILE
        if not path.exists() and not self.writer:  # a reader creates nothing; no writer has run here yet
            yield
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT if self.writer else os.O_RDONLY)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def steps(self) -> list[int]:
        """Steps on disk, oldest first (folders named by their step)."""
        if not self.folder.is_dir():
            return []
        return sorted(int(p.name) for p in self.folder.iterdir() if p.is_dir() and p.name.isdigit())

    def save(self, step: int, state: TrainState) -> None:
        """Write step's checkpoint (digest last, then the rename) and keep the newest `keep` steps."""
        tmp, final = self.folder / f".tmp-{step}", self.folder / str(step)
        with self._locked(fcntl.LOCK_EX):
            if self.primary:
                shutil.rmtree(tmp, ignore_errors=True)
            distributed.barrier(f"jaxgen checkpoint {step}: folder ready")
            self._checkpointer.save(tmp.absolute() / "state", args=ocp.args.StandardSave(state))
            if self.primary:
                (tmp / DIGEST_FILE).write_text(json.dumps({"step": step, "sha256": digest(tmp)}) + "\n")
                if final.exists():  # the same step again (a resume from an older intact step)
                    shutil.rmtree(final)
                os.rename(tmp, final)
                for old in self.steps()[: -self.keep]:
                    shutil.rmtree(self.folder / str(old), ignore_errors=True)
            distributed.barrier(f"jaxgen checkpoint {step}: renamed")

    def restore_latest(
        self, target: TrainState, newest: int | None = None
    ) -> tuple[TrainState | None, int | None]:
        """(state, step) of the newest intact checkpoint at or before `newest`, in target's structure,
        dtypes and shardings; (None, None) if there is none. Damaged steps are reported (and set aside)."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
        with self._locked(fcntl.LOCK_EX if self.writer else fcntl.LOCK_SH):
            for step in reversed(self.steps()):
                if newest is not None and step > newest:
                    continue
                folder = self.folder / str(step)
                item, problem = folder / "state", damage(folder)
                legacy = (
                    problem is not None and (folder / "default").is_dir() and not (folder / "state").exists()
                )
                if legacy:  # written by jaxgen before checkpoints had digests: restored unverified
                    item, problem = folder / "default", None
                if problem is None:
                    try:
                        state = self._checkpointer.restore(
                            item.absolute(), args=ocp.args.StandardRestore(abstract)
                        )
                    except Exception as e:
                        if not legacy:  # a digest-true step whose state is not this model's
                            raise CheckpointError(
                                f"checkpoint {folder} does not fit this model: {_first_line(e)} (written "
                                f"with other model settings? {self.folder.parent / 'config.json'} records "
                                "the ones the run was trained with; a field added since may need its old "
                                "value, e.g. --config.model.<field>=0)"
                            ) from None
                        problem = f"unreadable: {type(e).__name__}"
                    else:
                        if legacy:
                            self.log(f"checkpoint {folder} predates checkpoint digests: restored unverified")
                        return state, step
                self._set_aside(folder, problem)
        return None, None

    def latest_params(self) -> tuple[dict, int]:
        """(params, step) of the newest checkpoint whose digest holds, read as saved (nested dicts of
        arrays, no model needed), with the params' running average in place of the params where the run
        kept one: what another run starts from (train.init_from)."""
        with self._locked(fcntl.LOCK_SH):
            for step in reversed(self.steps()):
                folder = self.folder / str(step)
                if damage(folder) is None:
                    state = self._checkpointer.restore(
                        (folder / "state").absolute(), args=ocp.args.StandardRestore()
                    )
                    return {**state["params"], **state.get("average", {})}, step
        raise CheckpointError(f"no intact checkpoint in {self.folder} to start from")

    def _set_aside(self, folder: Path, problem: str) -> None:
        if not self.writer or not self.primary:
            self.log(f"checkpoint {folder} is damaged ({problem}); reading an older one")
            return
        aside = self.folder / DAMAGED / f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        aside.parent.mkdir(exist_ok=True)
        os.rename(folder, aside)
        self.log(f"checkpoint {folder} is damaged ({problem}); moved it to {aside} and use an older one")


def _first_line(error: Exception) -> str:
    """An exception as one line: orbax's structure mismatch is its first line and then a tree dump; keep
    the line and the paths that differ ('opt_state.disc', unindented lines ending in ':')."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    paths = [line[:-1] for line in lines[1:] if line.endswith(":") and not line.startswith(" ")]
    return lines[0].rstrip(":") + (f": {', '.join(paths[:6])}" if paths else "")


def restore_common(
    managers: list[Checkpoints], targets: list[TrainState]
) -> list[tuple[TrainState | None, int | None]] | None:
    """Each workdir's newest intact checkpoint, all at one step (seeds trained together), or None when
    their newest steps on disk differ. When damage set a newest step aside, all go back to the newest step
    that is intact in every one."""
    if len({(m.steps() or [None])[-1] for m in managers}) > 1:
        return None
    restored = [m.restore_latest(t) for m, t in zip(managers, targets, strict=True)]
    steps = {step for _, step in restored}
    if len(steps) > 1 and None not in steps:
        restored = [m.restore_latest(t, min(steps)) for m, t in zip(managers, targets, strict=True)]
        steps = {step for _, step in restored}
    return restored if len(steps) == 1 else None
