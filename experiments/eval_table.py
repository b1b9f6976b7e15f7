"""Print a markdown table row per evaluation report, so README numbers are copied by a program, not by hand.

python experiments/eval_table.py ae_mlp vae vaegan     # reads experiments/results/eval/<name>.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "eval"
HEADER = (
    "| config | steps | test MSE | test BCE | codes | 5-NN | linear probe | ELBO / IWAE (nats) | "
    "FID-MNIST of samples | precision / recall |\n|---|---|---|---|---|---|---|---|---|---|"
)


def row(name: str) -> str:
    """One row of HEADER from experiments/results/eval/<name>.json."""
    report = json.loads((RESULTS / f"{name}.json").read_text())
    model, samples = report["model"], report.get("samples", {})
    bounds = "—"
    if "elbo" in model:
        bounds = f"{model['elbo']:.2f} / {model['iwae_bound']:.2f}"
        if model["likelihood_images"] != 10_000:
            bounds += f" ({model['likelihood_images']} images)"
    cells = [
        f"`{name}`",
        str(report["source"]["step"]),
        f"{model['test_mse']:.5f}",
        f"{model['test_bce']:.4f}",
        f"{model['code_dim']}-d",
        f"{100 * model['knn5_accuracy']:.2f}%",
        f"{100 * model['linear_probe_accuracy']:.2f}%",
        bounds,
        f"{samples['fid']:.1f}" if "fid" in samples else "—",
        f"{samples['precision']:.2f} / {samples['recall']:.2f}" if "fid" in samples else "—",
    ]
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    print(HEADER)
    for name in sys.argv[1:]:
        print(row(name))
