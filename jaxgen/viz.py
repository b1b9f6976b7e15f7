"""Pictures: image grids and loss curves (matplotlib, no display needed)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save_figure(fig, path: str | Path, dpi: int) -> Path:
    """Write a matplotlib figure (creating its folder) and free it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def image_grid(images: np.ndarray, columns: int | None = None, pad: int = 2) -> np.ndarray:
    """Tile images [N, H, W, C] in [0, 1] into one [rows*(H+pad)+pad, cols*(W+pad)+pad, C] array."""
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, c), np.float32)
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = images[i]
    return grid


def save_grid(path: str | Path, images: np.ndarray, columns: int | None = None) -> Path:
    """Write an image grid PNG (grey for 1 channel)."""
    grid = image_grid(images, columns)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if grid.shape[-1] == 1:
        plt.imsave(path, grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        plt.imsave(path, grid)
    return path


def save_reconstructions(path: str | Path, originals: np.ndarray, reconstructions: np.ndarray) -> Path:
    """Rows alternate originals and their reconstructions (or translations), as in the seeds' figures; a
    grey row beside a colour one is drawn in colour."""
    channels = max(originals.shape[-1], reconstructions.shape[-1])
    originals, reconstructions = (
        np.broadcast_to(x, (*x.shape[:-1], channels)) for x in (originals, reconstructions)
    )
    n = len(originals)
    columns = min(n, 8)
    rows = []
    for start in range(0, n, columns):
        rows += [originals[start : start + columns], reconstructions[start : start + columns]]
    return save_grid(path, np.concatenate(rows), columns)


def read_metrics(jsonl: str | Path) -> list[dict]:
    """All readable records of a metrics.jsonl file (a line torn by a killed run is skipped)."""
    records = []
    with open(jsonl) as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def save_loss_curves(jsonl: str | Path, path: str | Path) -> Path | None:
    """One panel per training metric (x = step) from metrics.jsonl; None if nothing was logged."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for record in read_metrics(jsonl):
        if record.get("kind") != "train":
            continue
        for name, value in record.items():
            if name not in ("kind", "step", "images_per_s", "steps_per_s", "wall_s") and isinstance(
                value, (int, float)
            ):
                series[name].append((record["step"], value))
    if not series:
        return None
    names = sorted(series)
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        steps, values = zip(*series[name], strict=True)
        ax.plot(steps, values)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.tight_layout()
    return _save_figure(fig, path, dpi=100)


def save_embeddings(path: str | Path, panels: dict[str, np.ndarray], labels: np.ndarray, title: str) -> Path:
    """Side-by-side 2-D scatters {panel title: points [N, 2]} coloured by digit, one shared legend."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 5), squeeze=False)
    for ax, (name, points) in zip(axes[0], panels.items(), strict=True):
        scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(scatter, ax=axes[0].tolist(), ticks=range(10), label="digit", fraction=0.03)
    fig.suptitle(title)
    return _save_figure(fig, path, dpi=110)


def epoch_accuracy(records: list[dict], steps_per_epoch: int) -> tuple[dict[int, float], dict[int, float]]:
    """({epoch: mean train accuracy}, {epoch: test accuracy}) from metrics.jsonl records (epochs from 1).

    Train accuracy averages the logged accuracies of the epoch; test accuracy is the eval at its last step.
    """
    train: dict[int, list[float]] = defaultdict(list)
    test: dict[int, float] = {}
    for record in records:
        epoch = math.ceil(record["step"] / steps_per_epoch)
        if record.get("kind") == "train":
            train[epoch] += [v for k, v in record.items() if k.endswith("/accuracy")]
        elif (
            record.get("kind") == "eval"
            and "test_accuracy" in record
            and record["step"] % steps_per_epoch == 0
        ):
            test[epoch] = record["test_accuracy"]
    return {e: float(np.mean(v)) for e, v in sorted(train.items()) if v}, dict(sorted(test.items()))


def save_accuracy_curves(path: str | Path, train: dict[int, float], test: dict[int, float]) -> Path:
    """Train vs test accuracy per epoch, the seed classifier's figure."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(list(train), [100 * v for v in train.values()], "o-", label="train (mean over the epoch)")
    ax.plot(list(test), [100 * v for v in test.values()], "s-", label="test (end of the epoch)")
    epochs = sorted(set(train) | set(test))
    ax.set_xticks(epochs[:: max(1, math.ceil(len(epochs) / 15))])  # at most 15 labels, never overlapping
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _save_figure(fig, path, dpi=110)


def save_gif(
    path: str | Path, frames: np.ndarray, columns: int | None = None, ms_per_frame: int = 120
) -> Path:
    """Looped animated GIF of image grids: frames [T, N, H, W, C] in [0, 1], one grid per frame."""
    from PIL import Image

    grids = [np.round(255 * image_grid(frame, columns)[..., 0]).astype(np.uint8) for frame in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures = [
        Image.fromarray(g, mode="L").resize((3 * g.shape[1], 3 * g.shape[0]), Image.NEAREST) for g in grids
    ]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=ms_per_frame, loop=0)
    return path


def save_progress_gif(
    folder: str | Path, pattern: str = "samples_*.png", ms_per_frame: int = 500, name: str = "progress.gif"
) -> Path | None:
    """folder/name from the grids the trainer wrote at each evaluation (sorted by file name: the step, then
    'final'); None if there are none. Colour grids stay in colour."""
    from PIL import Image

    folder = Path(folder)
    paths = sorted(folder.glob(pattern))
    if not paths:
        return None
    frames = [Image.open(p) for p in paths]
    mode = "L" if all(f.mode in ("L", "LA") for f in frames) else "RGB"
    frames = [f.convert(mode) for f in frames]
    out = folder / name
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
    return out


def save_table(
    path: str | Path, table: np.ndarray, title: str, row_names: list[str], column_note: str
) -> Path:
    """A table of images [R, C, H, W, ch] in [0, 1] with each row named (a conditional digit grid, an
    InfoGAN code sweep)."""
    rows, columns = table.shape[:2]
    grid = image_grid(table.reshape(rows * columns, *table.shape[2:]), columns=columns)
    fig, ax = plt.subplots(figsize=(0.5 * columns + 1.0, 0.5 * rows + 0.8))
    ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0.0, vmax=1.0)
    cell = (grid.shape[0] - 2) / rows
    ax.set_yticks([2 + cell * (i + 0.5) for i in range(rows)], row_names, fontsize=8)
    ax.set_xticks([])
    ax.set_xlabel(column_note, fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save_figure(fig, path, dpi=110)


def save_rows(path: str | Path, rows: dict[str, np.ndarray]) -> Path:
    """Labelled rows of images {row title: [N, H, W, C] in [0, 1]} (the denoising figure: clean / corrupted /
    restored)."""
    fig, axes = plt.subplots(
        len(rows), 1, figsize=(1.0 * max(len(r) for r in rows.values()), 1.3 * len(rows))
    )
    for ax, (title, images) in zip(np.atleast_1d(axes), rows.items(), strict=True):
        grid = image_grid(images, columns=len(images))
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(title, fontsize=9, loc="left")
        ax.axis("off")
    fig.tight_layout()
    return _save_figure(fig, path, dpi=110)


def save_matrix_vs_identity(
    path: str | Path, title: str, matrix: np.ndarray, side: int, fit: dict | None = None
) -> Path:
    """A square matrix beside the identity, and its diagonal laid out as a side x side image; `fit`
    (jaxgen.metrics.identity_fit) adds how close it is to the identity on and off the data's span."""
    matrix = np.asarray(matrix, np.float64)
    panels = {title: matrix, "identity": np.eye(len(matrix)), f"diagonal of {title} per pixel": None}
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.8 if fit else 4.8))
    for ax, (name, values) in zip(axes, panels.items(), strict=True):
        if values is None:
            shown = ax.imshow(np.diag(matrix).reshape(side, side), cmap="viridis")
        else:
            shown = ax.imshow(values, cmap="RdBu_r", vmin=-1.0, vmax=1.0)
        fig.colorbar(shown, ax=ax, fraction=0.046)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    if fit:
        lines = (
            f"||{title} - I||_F = {fit['frobenius_error']:.2f}: {fit['frobenius_error_on_data_span']:.2f} on "
            f"the span of the training images ({fit['data_span_dimension']} of {fit['pixels']} dimensions), "
            f"{fit['frobenius_error_off_data_span']:.2f} off it, where no image ever pulls it",
            f"{fit['frobenius_error_on_90pct_variance']:.2f} on the {fit['directions_for_90pct_variance']} "
            f"principal directions with 90% of the variance, "
            f"{fit['frobenius_error_on_99pct_variance']:.2f} on the {fit['directions_for_99pct_variance']} "
            f"with 99%; error on the images "
            f"||(W - I) x|| / ||x|| = {fit['relative_error_on_data']:.3f}",
            f"mean diagonal {fit['diagonal_mean_lit_pixels']:.3f} on pixels the data lights, "
            f"{fit['diagonal_mean_never_lit_pixels'] or 0:.3f} on the {fit['pixels_never_lit']} never lit",
        )
        fig.suptitle("\n".join(lines))
    fig.tight_layout()
    return _save_figure(fig, path, dpi=100)


def save_prior_fit(
    path: str | Path, prior_samples: np.ndarray, codes: np.ndarray, labels: np.ndarray, title: str
) -> Path:
    """2-D codes [N, 2] coloured by digit over the prior's density (a histogram of prior samples [M, 2]),
    beside the density alone: how well an AAE's codes fill its prior."""
    both = np.concatenate([prior_samples, codes])
    low, high = np.percentile(both, 0.5, axis=0), np.percentile(both, 99.5, axis=0)
    margin = 0.1 * (high - low)
    extent = [(low[i] - margin[i], high[i] + margin[i]) for i in range(2)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, show_codes in zip(axes, (False, True), strict=True):
        ax.hist2d(prior_samples[:, 0], prior_samples[:, 1], bins=120, range=extent, cmap="Greys")
        if show_codes:
            scatter = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=2, vmin=-0.5, vmax=9.5)
            fig.colorbar(scatter, ax=ax, ticks=range(10), label="digit", fraction=0.046)
        ax.set_xlim(extent[0])
        ax.set_ylim(extent[1])
        ax.set_aspect("equal")
        ax.set_title("test codes over the prior" if show_codes else "prior density (samples)")
    fig.suptitle(title)
    fig.tight_layout()
    return _save_figure(fig, path, dpi=110)


def save_style_distributions(path: str | Path, styles: np.ndarray, labels: np.ndarray, title: str) -> Path:
    """One panel per style dimension: the density of each digit's style values [N, D] against N(0, 1)."""
    dims = styles.shape[1]
    columns = min(dims, 4)
    rows = math.ceil(dims / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.8 * rows), squeeze=False)
    grid = np.linspace(-4.0, 4.0, 200)
    colours = plt.get_cmap("tab10")
    for i, ax in enumerate(axes.flat):
        if i >= dims:
            ax.axis("off")
            continue
        for digit in range(10):
            values = styles[labels == digit, i]
            if len(values) > 1:
                density, edges = np.histogram(values, bins=40, range=(-4.0, 4.0), density=True)
                ax.stairs(density, edges, color=colours(digit), label=str(digit), linewidth=1.0)
        ax.plot(grid, np.exp(-0.5 * grid**2) / math.sqrt(2 * math.pi), "k--", linewidth=1.5, label="N(0, 1)")
        ax.set_title(f"style dimension {i + 1}", fontsize=9)
        ax.set_xlim(-4.0, 4.0)
    axes.flat[0].legend(fontsize=6, ncol=2)
    fig.suptitle(title)
    fig.tight_layout()
    return _save_figure(fig, path, dpi=110)
