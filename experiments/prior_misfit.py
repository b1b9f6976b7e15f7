"""Where an AAE's codes miss their prior: test against training codes, and the codes off the prior.

    python experiments/prior_misfit.py runs/aae_lmix [more workdirs] [--grid_dir=DIR]

For each trained workdir of the `aae` family it prints the prior-distance ratio of `--mode=eval` (same key,
so the same figure as its report) for the test codes and for the codes of 10,000 training images; the share
of codes that lie off the prior (farther from the nearest of 10 x PRIOR_DRAWS prior draws than all but 0.5%
of fresh prior draws are); the ratio without them, beside fresh prior draws with the same share removed at
random (what removing codes does by itself); and, for a prior split by digit (`model.label_prior`), how many
codes lie nearest their own digit's part. A workdir that is not a trained AAE: one line, exit status 2.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxgen
from jaxgen import data, evaluate, metrics, viz
from jaxgen.checkpoints import CheckpointError

PRIOR_DRAWS = 10_000  # x 10: the reference draws that "off the prior" is measured against
OFF_QUANTILE = 0.995  # a code is off the prior beyond this quantile of fresh draws' nearest distances
TRAIN_CODES = 10_000
GRID_IMAGES = 40


def ratio(prior, key, codes: np.ndarray, labels: np.ndarray) -> float:
    return evaluate.prior_fit(prior, key, jnp.asarray(codes), jnp.asarray(labels))["prior_distance_ratio"]


@functools.partial(jax.jit, static_argnames="chunk")
def nearest(points: jax.Array, reference: jax.Array, chunk: int = 250) -> tuple[jax.Array, jax.Array]:
    """For each of points [n, 2]: the distance to the nearest reference point [m, 2] and its index, chunk
    points at a time. Differences, not metrics' expanded |q|^2 + |p|^2 - 2 q.p: the nearest draws lie about
    0.004 away, where the expansion's float32 rounding was off by over 16% for a tenth of them."""

    def one_chunk(rows):
        squared = jnp.sum((rows[:, None, :] - reference[None]) ** 2, -1)
        return jnp.sqrt(jnp.min(squared, 1)), jnp.argmin(squared, 1)

    return metrics.map_chunks(one_chunk, points, chunk)


def draw_off_prior(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """A grid of test digits whose codes are off the prior, ten a row, and their labels printed."""
    viz.save_grid(path, np.asarray(images), columns=10)
    print(f"  {path}: the first {len(images)} test digits off the prior; their labels, row by row:")
    for row in range(0, len(labels), 10):
        print("   ", " ".join(str(d) for d in labels[row : row + 10]))


def misfit(workdir: str, grid: Path | None = None) -> dict[str, float]:
    model = jaxgen.load(workdir)
    prior = model.family.can.prior
    if prior is None:
        raise ValueError(f"{workdir}: model {model.config.model.name!r} pushes its codes to no prior")
    by_label = prior.draw_given is not None

    def draw_at(key, labels):
        """Prior draws for codes of these digits: from each digit's part for a label-split prior."""
        return prior.draw_given(key, jnp.asarray(labels)) if by_label else prior.draw(key, len(labels))

    dataset = data.load_dataset(model.config.data)
    eval_key = jax.random.fold_in(jax.random.key(model.config.eval.seed), 0)  # --mode=eval's model key
    key = jax.random.fold_in(eval_key, 1)  # and its codes' (evaluate.model_metrics, code_quality)
    test_codes, test_labels = model.encode(dataset.test_images), dataset.test_labels
    train_codes = model.encode(dataset.train_images[:TRAIN_CODES])
    train_labels = dataset.train_labels[:TRAIN_CODES]

    parts = np.repeat(np.arange(10), PRIOR_DRAWS)
    reference = draw_at(jax.random.fold_in(key, 101), parts)
    fresh = np.asarray(draw_at(jax.random.fold_in(key, 102), test_labels))
    cut = np.quantile(np.asarray(nearest(fresh, reference)[0]), OFF_QUANTILE)
    test_distance, test_nearest = map(np.asarray, nearest(test_codes, reference))
    train_distance, train_nearest = map(np.asarray, nearest(train_codes, reference))
    off, off_train = test_distance > cut, train_distance > cut
    kept_at_random = np.random.default_rng(0).random(len(test_labels)) >= off.mean()
    if grid:
        draw_off_prior(grid, dataset.test_images[off][:GRID_IMAGES], test_labels[off][:GRID_IMAGES])
    report = {
        "step": model.step,
        "ratio, test codes": ratio(prior, key, test_codes, test_labels),
        "ratio, training codes": ratio(prior, key, train_codes, train_labels),
        "test codes off the prior, %": 100 * off.mean(),
        "training codes off the prior, %": 100 * off_train.mean(),
        "ratio, test codes on the prior": ratio(prior, key, test_codes[~off], test_labels[~off]),
        "ratio, training codes on the prior": ratio(
            prior, key, train_codes[~off_train], train_labels[~off_train]
        ),
        "ratio, prior draws less the same share at random": ratio(
            prior, key, fresh[kept_at_random], test_labels[kept_at_random]
        ),
    }
    if by_label:
        report["test codes nearest their digit's part, %"] = 100 * np.mean(parts[test_nearest] == test_labels)
        report["training codes nearest their digit's part, %"] = 100 * np.mean(
            parts[train_nearest] == train_labels
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdirs", nargs="+")
    parser.add_argument("--grid_dir", default="", help="draw each run's first test digits off the prior here")
    args = parser.parse_args()
    for workdir in args.workdirs:
        print(workdir)
        grid = Path(args.grid_dir) / f"{Path(workdir).name}_off_prior.png" if args.grid_dir else None
        try:
            report = misfit(workdir, grid)
        except (FileNotFoundError, ValueError, CheckpointError) as e:
            print(f"prior_misfit: {e}", file=sys.stderr)
            sys.exit(2)
        for name, value in report.items():
            print(f"  {name}: {value:.2f}" if isinstance(value, float) else f"  {name}: {value}")


if __name__ == "__main__":
    main()
