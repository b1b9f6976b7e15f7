"""Print the README's transfer-learning table (test error, mean ± std over seeds, one row per target and
regime) from the reports experiments/transfer.sh wrote, and with --figure draw the label-efficiency
picture (test accuracy against labelled training images per class), so no number is copied by hand.
Regimes whose reports are missing for a target (the unsupervised sources are run for the UCI digits only)
are left out.

python experiments/transfer_table.py uci negative upper [--seeds 0,1,2] [--figure PATH.png]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {
    "uci": "UCI digits ← MNIST",
    "negative": "MNIST negatives ← MNIST",
    "upper": "digits 5–9 ← digits 0–4",
}
REGIMES = {
    "scratch": "from scratch",
    "probe": "linear probe (source body frozen)",
    "finetune": "fine-tuned from the source",
    "probe_from_ae": "linear probe of the conv AE's encoder (unsupervised)",
    "finetune_from_ae": "fine-tuned from the conv AE's encoder",
    "probe_from_gan": "linear probe of the DCGAN discriminator's body (unsupervised)",
    "finetune_from_gan": "fine-tuned from the DCGAN discriminator's body",
}
LABELS = ("10", "all")


def report_path(target: str, regime: str, labels: str, seed: str) -> Path:
    return RESULTS / "eval" / f"transfer_{target}_{regime}_{labels}_seed{seed}.json"


def errors(target: str, regime: str, labels: str, seeds: list[str]) -> tuple[np.ndarray, list[dict]]:
    reports = [json.loads(report_path(target, regime, labels, s).read_text()) for s in seeds]
    return np.array([100 * r["model"]["test_error"] for r in reports]), reports


def cell(values: np.ndarray) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}%"
    return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="+", choices=sorted(TARGETS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--figure", default="", help="also draw the label-efficiency picture here")
    args = parser.parse_args()
    seeds = args.seeds.split(",")
    print("| target | regime | 10 labels per class | every label | steps | training wall time per run |")
    print("|---|---|---|---|---|---|")
    curves = {}
    for target in args.targets:
        for regime, title in REGIMES.items():
            if not all(report_path(target, regime, labels, s).exists() for labels in LABELS for s in seeds):
                continue
            row, walls = [], []
            for labels in LABELS:
                values, reports = errors(target, regime, labels, seeds)
                row.append(cell(values))
                walls += [r["source"]["train_wall_s"] for r in reports]
                curves.setdefault((target, regime), []).append(values)
            steps = reports[0]["source"]["step"]
            cells = [TARGETS[target], title, *row, str(steps), f"{min(walls):.0f}–{max(walls):.0f} s"]
            print("| " + " | ".join(cells) + " |")
    if args.figure:
        draw(curves, args.targets, args.figure)


def draw(curves: dict, targets: list[str], figure: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 4.4), squeeze=False)
    for ax, target in zip(axes[0], targets, strict=True):
        for regime, title in REGIMES.items():
            if (target, regime) not in curves:
                continue
            values = curves[(target, regime)]
            means = [100 - v.mean() for v in values]
            stds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
            ax.errorbar([0, 1], means, yerr=stds, marker="o", capsize=3, label=title)
        ax.set_xticks([0, 1], ["10 per class", "every label"])
        ax.set_title(TARGETS[target], fontsize=10)
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.06 * ((len(labels) + 1) // 2), 1, 1))  # room for the legend rows
    Path(figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)


if __name__ == "__main__":
    main()
