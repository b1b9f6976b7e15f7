"""The spatial transformer paper's figure over training: a row of test digits, then what the transformer
made of the same digits after each chosen evaluation, read from the rectified grids the trainer wrote
(`<workdir>/samples/rectified_<step>.png` and `rectified_final.png`: test digits in odd rows, their rectified
versions below them).

    python experiments/rectified_progress.py runs/st_cnn_rts \
        experiments/results/figures/st_cnn_rts_progress.png \
        --steps 937,2811,4685,final
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

PAD = 2  # jaxgen.viz.image_grid's padding


def grid_rows(path: Path, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The first test row and its rectified row of a rectified grid, each [cell, width] grey."""
    grid = np.asarray(Image.open(path).convert("L"), np.float32) / 255.0
    cell = (grid.shape[1] - PAD) // columns  # image side + padding
    return grid[: cell + PAD], grid[cell : 2 * cell + PAD]


def fail(message: str) -> None:
    """Bad input: one line on stderr, exit status 2."""
    print(f"rectified_progress: {message}", file=sys.stderr)
    sys.exit(2)


def by_step(tag: str) -> float:
    return float("inf") if tag == "final" else int(tag)


def grids(workdir: Path) -> dict[str, Path]:
    """The rectified grids of a run by evaluation: '937', ..., 'final'."""
    found = {}
    for path in (workdir / "samples").glob("rectified_*.png"):
        tag = path.stem.removeprefix("rectified_")
        found[tag if tag == "final" else str(int(tag))] = path
    return found


def progress(workdir: Path, steps: list[str] | None, columns: int) -> tuple[np.ndarray, list[str]]:
    """The stacked picture and its row labels: the inputs, then the rectified row at each step."""
    files = grids(workdir)
    if not files:
        fail(f"no rectified_<step>.png in {workdir / 'samples'}")
    chosen = steps or sorted(files, key=by_step)
    missing = [s for s in chosen if s not in files]
    if missing:
        fail(f"no rectified grid at {missing} in {workdir / 'samples'} (has {sorted(files, key=by_step)})")
    inputs, _ = grid_rows(files[chosen[0]], columns)
    rows, labels = [inputs], ["input"]
    for step in chosen:
        rows.append(grid_rows(files[step], columns)[1])
        labels.append(step if step == "final" else f"step {step}")
    return np.concatenate(rows), labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--steps",
        type=lambda s: s.split(","),
        default=None,
        help="comma-separated evaluation steps, 'final' for the last (default: all)",
    )
    parser.add_argument("--columns", type=int, default=8, help="digits per row of the trainer's grid")
    args = parser.parse_args()
    picture, labels = progress(args.workdir, args.steps, args.columns)
    row_height = picture.shape[0] / len(labels)
    fig, ax = plt.subplots(figsize=(picture.shape[1] / 60 + 1.2, picture.shape[0] / 60))
    ax.imshow(picture, cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_yticks([(i + 0.5) * row_height for i in range(len(labels))], labels)
    ax.set_xticks([])
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}: {len(labels) - 1} evaluations of {args.workdir}")


if __name__ == "__main__":
    main()
