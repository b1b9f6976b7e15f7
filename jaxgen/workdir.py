"""A run's workdirs: where each run slot writes, whether a folder can be used, the locks that keep two
trainers apart, what a resumed run may change, the config a trained run is read with, and stop signals."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
from pathlib import Path

from jaxgen.optim import LENGTH_SCHEDULES


class WorkdirBusyError(RuntimeError):
    """Another process is training in the same workdir."""


class TrainingInterrupted(Exception):
    """SIGTERM / SIGINT arrived; a checkpoint was saved."""

    def __init__(self, signum: int, step: int):
        super().__init__(f"stopped by {signal.Signals(signum).name} at step {step}")
        self.signum, self.step = signum, step


def seed_workdir(workdir: str | Path, seed: int) -> Path:
    """Where seed `seed` of a many-seed run keeps its checkpoints and logs: an ordinary workdir that
    --mode=eval / sample / viz read with --config.seed=<seed>."""
    return Path(workdir) / f"seed_{seed}"


@contextlib.contextmanager
def locks(workdirs: list[Path]):
    """Hold an exclusive lock on <workdir>/.lock of every workdir a run writes; the OS releases them if
    the process dies."""
    with contextlib.ExitStack() as stack:
        for workdir in dict.fromkeys(workdirs):
            handle = stack.enter_context(open(workdir / ".lock", "w"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkdirBusyError(
                    f"another jaxgen process is training in {workdir}; wait for it to finish or use another "
                    "--workdir"
                ) from None
        yield


class StopSignal:
    """Records SIGTERM / SIGINT so the training loop can checkpoint and stop between compiled calls."""

    def __init__(self):
        self.signum, self._previous = None, {}

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def _handle(self, signum, frame):
        del frame
        self.signum = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class WorkdirError(ValueError):
    """A workdir that cannot be used, or a resume that would change the run it holds."""


def check_usable(workdir: Path, create: bool) -> None:
    """Raise WorkdirError unless workdir is (or, when create, can become) a writable folder."""
    if workdir.exists() and not workdir.is_dir():
        raise WorkdirError(f"--workdir={workdir} is a file, not a folder")
    if not workdir.exists():
        parent = next((p for p in workdir.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise WorkdirError(f"--workdir={workdir} lies under {parent}, which is a file")
        if not create:
            raise WorkdirError(f"no workdir {workdir}; train first with the same --workdir")
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            raise WorkdirError(f"--workdir={workdir} cannot be created: {parent} is not writable")
    elif create and not os.access(workdir, os.W_OK | os.X_OK):
        raise WorkdirError(f"--workdir={workdir} is not writable")


# Fields a resumed run may change: how it is logged, checkpointed, computed and scored, where the same data
# is read from, and how long it trains (unless a decaying schedule ties the learning rate to the length).
RESUMABLE = ("train.num_steps", "train.log_every", "train.eval_every", "train.checkpoint_every",
             "train.keep_checkpoints", "train.num_grid_images", "runtime.", "sample.", "eval.", "data.source",
             "data.idx_dir", "data.tfds_dir")  # fmt: skip


def _flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_changes(
    recorded: dict, requested: dict, defaults: dict | None = None
) -> tuple[list[str], list[str]]:
    """(allowed, refused): 'field old -> new' for each field that differs between the config a workdir
    recorded and the requested one; refused are those that change the model, its data or its training.

    A field the record lacks is allowed at its value in `defaults` (the model's base config): jaxgen added
    it after the run started, and a new field's default keeps the earlier behaviour."""
    old, new, default = _flat(recorded), _flat(requested), _flat(defaults or {})
    length_fixed = new.get("optim.schedule") in LENGTH_SCHEDULES
    allowed, refused = [], []
    for field in sorted(old.keys() | new.keys()):
        if old.get(field, "<absent>") == new.get(field, "<absent>"):
            continue
        change = f"{field} {old.get(field, '<absent>')!r} -> {new.get(field, '<absent>')!r}"
        added_at_default = field not in old and field in default and new.get(field) == default[field]
        tied = field == "train.num_steps" and length_fixed
        if tied:  # say why a length change, resumable otherwise, is refused here
            change += f" (optim.schedule={new['optim.schedule']} sets the rate from it)"
        ok = added_at_default or (field.startswith(RESUMABLE) and not tied)
        (allowed if ok else refused).append(change)
    return allowed, refused


def recorded_config(workdir: Path):
    """The config a workdir's run recorded (config.json) on its model's base config, so fields jaxgen gained
    since keep their defaults; None when nothing was recorded there."""
    record = Path(workdir) / "config.json"
    if not record.is_file():
        return None
    try:
        recorded = json.loads(record.read_text())
        name = recorded["model"]["name"]
    except (ValueError, KeyError, TypeError) as e:
        raise WorkdirError(f"{record} is not a config jaxgen recorded ({type(e).__name__}: {e})") from e
    from jaxgen.config import base_config

    config = base_config(name)
    config.update(recorded)
    return config


# What a reader of a trained run (--mode=sample, eval, viz) takes from the request rather than from the run:
# how it computes, draws and scores, and where the same data is read from.
READER_SECTIONS = ("runtime", "sample", "eval")
READER_DATA_FIELDS = ("source", "idx_dir", "tfds_dir")


def config_of_run(requested, workdir: Path, log):
    """The config a trained run is read with: the one its workdir recorded (config.json), with the request's
    READER_SECTIONS and READER_DATA_FIELDS. A model, data or training field the request sets otherwise is
    logged and not used: a swiss-roll AAE read with configs/aae.py alone is still scored against its swiss
    roll. Without a record (nothing trained there yet) the request is returned as it is."""
    config = recorded_config(workdir)
    if config is None:
        return requested
    if config.model.name != requested.model.name:
        raise WorkdirError(
            f"{workdir} holds a run of model {config.model.name!r}, not {requested.model.name!r}: "
            "pass the config it was trained with"
        )
    for section in READER_SECTIONS:
        config[section] = requested[section].copy_and_resolve_references()
    for field in READER_DATA_FIELDS:
        config.data[field] = requested.data[field]
    asked, used = (
        _flat(json.loads(requested.to_json_best_effort())),
        _flat(json.loads(config.to_json_best_effort())),
    )
    ignored = [
        f"{f} {asked[f]!r} (the run's: {used[f]!r})"
        for f in sorted(asked)
        if asked[f] != used.get(f, asked[f])
    ]
    if ignored:
        log(f"reading {workdir} as it was trained (its config.json); not used: {'; '.join(ignored)}")
    return config


def check_resume(workdir: Path, has_checkpoints: bool, config, allow_change: bool, log) -> None:
    """Before a workdir's checkpoints are resumed: the requested config must be the one it recorded
    (config.json), but for fields a resume may change; allow_change resumes anyway and logs the changes."""
    record = workdir / "config.json"
    if not has_checkpoints or not record.exists():
        return
    try:
        recorded = json.loads(record.read_text())
    except ValueError:
        recorded = {}
    requested = json.loads(config.to_json_best_effort())
    from jaxgen.config import base_config

    defaults = json.loads(base_config(config.model.name).to_json_best_effort())
    allowed, refused = (
        config_changes(recorded, requested, defaults) if recorded else ([], ["config.json unreadable"])
    )
    if refused and not allow_change:
        raise WorkdirError(
            f"{workdir} holds a run of another config ({'; '.join(refused)}): use a new --workdir, or "
            "--allow_config_change to resume it anyway"
        )
    if allowed or refused:
        log(f"resuming {workdir} with changed fields: {'; '.join(allowed + refused)}")
