"""Do the sample metrics move the right way? Score degraded MNIST training images as if they were samples.

    python experiments/metric_sanity.py [--workdir runs/metric_sanity]

Each row: 10,000 training images (not the floor's subset) with one corruption, scored by jaxgen.evaluate
against the test set. Expected: FID and KID grow with the corruption; one-digit sets keep precision but lose
recall and class entropy. Results: experiments/results/metric_sanity.json.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from jaxgen.config import base_config
from jaxgen.data import load_dataset
from jaxgen.evaluate import evaluate

KEYS = ("fid", "kid", "mnist_score", "precision", "recall", "class_entropy")


def corruptions(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """name -> float images in [0, 1]."""
    clean = images.astype(np.float32) / 255.0
    out = {"clean": clean}
    for sigma in (0.1, 0.2, 0.4):
        out[f"gaussian noise {sigma}"] = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 1).astype(
            np.float32
        )
    blurred = clean.copy()
    for _ in range(2):  # two passes of a 3x3 box filter
        padded = np.pad(blurred, ((0, 0), (1, 1), (1, 1), (0, 0)))
        blurred = sum(padded[:, i : i + 32, j : j + 32] for i in range(3) for j in range(3)) / 9.0
    out["box blur 3x3, twice"] = blurred.astype(np.float32)
    ones = clean[labels == 1]
    out["only the digit 1"] = ones[rng.integers(0, len(ones), len(clean))]
    out["half the digits (0-4)"] = clean[labels < 5][rng.integers(0, int((labels < 5).sum()), len(clean))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("runs/metric_sanity"))
    args = parser.parse_args()
    config = base_config("gan")  # the model is unused: samples files only
    dataset = load_dataset(config.data)
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(dataset.train_images))[-10_000:]
    results = {}
    args.workdir.mkdir(parents=True, exist_ok=True)
    for name, images in corruptions(dataset.train_images[pick], dataset.train_labels[pick], rng).items():
        path = args.workdir / (re.sub(r"[^a-z0-9]+", "_", name).strip("_") + ".npz")
        np.savez(path, images=images)
        report = evaluate(config, args.workdir, path)
        results[name] = {k: report["samples"][k] for k in KEYS}
    results["real floor"] = {k: report["real_floor"][k] for k in KEYS}
    out = Path(__file__).parent / "results" / "metric_sanity.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    for name, row in results.items():
        print(f"{name:<24}" + "".join(f" {k} {v:.4g}" for k, v in row.items()))


if __name__ == "__main__":
    main()
