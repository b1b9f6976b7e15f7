"""Metrics to `metrics.jsonl` and TensorBoard event files in the workdir."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _import_summary_writer():
    """tensorboardX's SummaryWriter, imported with PyTorch hidden: its writer module imports PyTorch whenever
    it is installed, only to accept torch tensors (jaxgen passes floats). That import cost every run 1.2 s
    of start-up, and its ~10^5 Python objects made each full garbage collection during tracing slower."""
    hide = "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # `import torch` raises ImportError, tensorboardX's fallback
    try:
        from tensorboardX import SummaryWriter
    finally:
        if hide:
            del sys.modules["torch"]
    return SummaryWriter


SummaryWriter = _import_summary_writer()


class MetricWriter:
    """Appends {"kind", "step", metrics...} records; a resumed run first drops records past its step.
    `wall_s` is the training wall time the kept records already account for (0 for a fresh run), so that a
    resumed run reports the time of the whole run, not of its last piece."""

    def __init__(self, workdir: Path, resume_step: int):
        self.path = workdir / "metrics.jsonl"
        self.wall_s = 0.0
        if self.path.exists():
            # A killed run may have logged past its last checkpoint; the resumed run logs those steps again.
            kept = []
            for number, line in enumerate(self.path.read_text().splitlines(), 1):
                try:
                    step = json.loads(line)["step"]
                except (ValueError, KeyError, TypeError):  # a line torn by a kill during its write
                    print(f"[jaxgen] dropped the unreadable line {number} of {self.path}", file=sys.stderr)
                    continue
                if step <= resume_step:
                    kept.append(line)
                    self.wall_s = train_wall_s(line, self.wall_s)
            self.path.write_text("".join(line + "\n" for line in kept))
        self.tensorboard = SummaryWriter(str(workdir / "tensorboard"), purge_step=resume_step + 1)

    def write(self, kind: str, step: int, metrics: dict[str, float]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps({"kind": kind, "step": step, **metrics}) + "\n")
        for name, value in metrics.items():
            self.tensorboard.add_scalar(f"{kind}/{name}", value, step)

    def close(self) -> None:
        self.tensorboard.close()


def train_wall_s(line: str, default: float) -> float:
    """The `wall_s` of a train record (runs logged before it existed have none: default)."""
    record = json.loads(line)
    return float(record.get("wall_s", default)) if record.get("kind") == "train" else default


def wall_time_at(workdir: Path, step: int) -> float | None:
    """Training wall time up to `step` from workdir/metrics.jsonl: the `wall_s` of the last train record at
    or before it; None when the log has no such record (a run older than the field, or no log)."""
    path, wall = workdir / "metrics.jsonl", None
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("kind") == "train" and record.get("step", step + 1) <= step and "wall_s" in record:
            wall = float(record["wall_s"])
    return wall
