"""A run's workdirs: where each run slot writes, the locks that keep two trainers apart, and stop signals."""

from __future__ import annotations

import contextlib
import fcntl
import signal
from pathlib import Path


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
