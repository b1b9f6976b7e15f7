"""Print the README's transfer-learning table (test error on the UCI digits, mean ± std over seeds) from the
reports experiments/transfer.sh wrote, and draw the label-efficiency picture (test accuracy against
labelled training images per class), so no number is copied by hand.

python experiments/transfer_table.py [--seeds 0,1,2] [--figure experiments/results/figures/transfer_uci.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
REGIMES = {
    "scratch": "from scratch",
    "probe": "linear probe (MNIST body frozen)",
    "finetune": "fine-tuned from MNIST",
}
LABELS = ("10", "all")


def errors(regime: str, labels: str, seeds: list[str]) -> tuple[np.ndarray, list[dict]]:
    reports = [
        json.loads((RESULTS / "eval" / f"transfer_uci_{regime}_{labels}_seed{s}.json").read_text())
        for s in seeds
    ]
    return np.array([100 * r["model"]["test_error"] for r in reports]), reports


def cell(values: np.ndarray) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}%"
    return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--figure", default=str(RESULTS / "figures" / "transfer_uci_label_efficiency.png"))
    args = parser.parse_args()
    seeds = args.seeds.split(",")
    print("| regime | 10 labels per class | every label (1347) | steps | training wall time per seed |")
    print("|---|---|---|---|---|")
    curves = {}
    for regime, title in REGIMES.items():
        row, walls = [], []
        for labels in LABELS:
            values, reports = errors(regime, labels, seeds)
            row.append(cell(values))
            walls += [r["source"]["train_wall_s"] for r in reports]
            curves.setdefault(regime, []).append(values)
        steps = reports[0]["source"]["step"]
        print(f"| {title} | {row[0]} | {row[1]} | {steps} | {min(walls):.0f}–{max(walls):.0f} s |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_class = [10, 1347 / 10]  # every label: 1347 training images, about 135 per class
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for regime, values in curves.items():
        means = [100 - v.mean() for v in values]
        stds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
        ax.errorbar(per_class, means, yerr=stds, marker="o", capsize=3, label=REGIMES[regime])
    ax.set_xscale("log")
    ax.set_xlabel("labelled training images per class (UCI digits)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=110)


if __name__ == "__main__":
    main()
