"""Metrics to `metrics.jsonl` and TensorBoard event files in the workdir."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tensorboardX import SummaryWriter


class MetricWriter:
    """Appends {"kind", "step", metrics...} records; a resumed run first drops records past its step."""

    def __init__(self, workdir: Path, resume_step: int):
        self.path = workdir / "metrics.jsonl"
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
            self.path.write_text("".join(line + "\n" for line in kept))
        self.tensorboard = SummaryWriter(str(workdir / "tensorboard"), purge_step=resume_step + 1)

    def write(self, kind: str, step: int, metrics: dict[str, float]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps({"kind": kind, "step": step, **metrics}) + "\n")
        for name, value in metrics.items():
            self.tensorboard.add_scalar(f"{kind}/{name}", value, step)

    def close(self) -> None:
        self.tensorboard.close()
