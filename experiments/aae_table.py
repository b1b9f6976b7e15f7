"""Print the README's adversarial-autoencoder tables from the evaluation reports (experiments/results/eval/).

python experiments/aae_table.py semi ssaae_100:0,1,2 ssaae_1000:0,1,2
python experiments/aae_table.py style style_ae style_aae
python experiments/aae_table.py prior aae_gaussian aae_mixture aae_triangle aae_donut aae_swiss_roll \
    aae_labelled_mixture aae_labelled_swiss_roll
A name with seeds (`ssaae_100:0,1,2`) reads <name>_seed<s>.json: mean ± sample std, then the seeds' values.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gan_table import _mean_std  # noqa: E402
from reports import load_reports  # noqa: E402

# Makhzani et al. 2015 (arXiv:1511.05644), table 2: semi-supervised AAE test error on MNIST
PAPER_ERROR = {"100": "1.90% (± 0.10)", "1000": "1.60% (± 0.08)", "all": "0.85% (± 0.02)"}


def semi_row(spec: str) -> str:
    name, seeds, reports = load_reports(spec)
    labels = name.rpartition("_")[2]
    errors = [100 * r["model"]["test_error"] for r in reports]
    each = ", ".join(f"{e:.2f}" for e in errors)
    samples = [r["samples"] for r in reports]
    cells = [
        f"`{name}`",
        labels,
        str(reports[0]["source"]["step"]),
        seeds.replace(",", ", ") if seeds else "0",
        f"**{_mean_std(errors, 2)}%** ({each})",
        PAPER_ERROR.get(labels, "—"),
        _mean_std([s["fid"] for s in samples], 1),
        _mean_std([100 * s["label_accuracy"] for s in samples], 2) + "%",
        _mean_std([100 * r["model"]["linear_probe_accuracy"] for r in reports], 2) + "%",
    ]
    return "| " + " | ".join(cells) + " |"


def style_row(spec: str) -> str:
    name, _, reports = load_reports(spec)
    model, samples = reports[0]["model"], reports[0].get("samples", {})

    def value(source, key, fmt, scale=1.0):
        return format(scale * source[key], fmt) if key in source else "—"

    cells = [
        f"`{name}`",
        str(reports[0]["source"]["step"]),
        value(model, "test_accuracy", ".2f", 100) + ("%" if "test_accuracy" in model else ""),
        value(model, "test_l1", ".4f") if "test_l1" in model else "—",
        value(model, "test_mse", ".4f"),
        value(model, "code_ks_median", ".3f"),
        value(model, "code_ks_median_per_class", ".3f"),
        value(model, "code_distribution_error", ".1f"),
        value(samples, "fid", ".1f"),
        value(samples, "label_accuracy", ".2f", 100) + ("%" if "label_accuracy" in samples else ""),
    ]
    return "| " + " | ".join(cells) + " |"


def prior_row(spec: str) -> str:
    """A 2-d AAE: how close its test codes lie to the prior (sliced W2, beside two prior draws' distance);
    mean ± sample std over the seeds of a spec with seeds."""
    name, seeds, reports = load_reports(spec)
    models, samples = [r["model"] for r in reports], [r.get("samples", {}) for r in reports]
    labelled = name.startswith("aae_labelled_")

    def cell(values, key, digits, scale=1.0, bold_at=None):
        if key not in values[0]:
            return "—"
        numbers = [scale * v[key] for v in values]
        text = _mean_std(numbers, digits)
        return f"**{text}**" if bold_at is not None and sum(numbers) / len(numbers) <= bold_at else text

    label_accuracy = (
        cell(samples, "label_accuracy", 2, 100) + "%" if labelled and "label_accuracy" in samples[0] else "—"
    )
    cells = [
        f"`{name}`" + (f" seeds {seeds.replace(',', ', ')}" if seeds else ""),
        next(prior for prior in PRIORS if prior in name),
        "yes" if labelled else "no",
        str(reports[0]["source"]["step"]),
        cell(models, "test_mse", 4),
        cell(models, "prior_distance", 3),
        cell(models, "prior_distance_floor", 3),
        cell(models, "prior_distance_ratio", 2, bold_at=2),
        cell(samples, "fid", 1),
        label_accuracy,
    ]
    return "| " + " | ".join(cells) + " |"


PRIORS = ("gaussian", "mixture", "triangle", "donut", "swiss_roll")
PRIOR_HEADER = (
    "| config | prior | digit shown to D | steps | test MSE | prior distance (sliced W2) | floor (prior vs "
    "prior) | ratio (bar ≤ 2) | FID-MNIST of decoded prior draws | label accuracy of samples |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)
SEMI_HEADER = (
    "| config | labels | steps | seeds | test error ↓ (mean ± std; each seed) | paper | FID-MNIST of "
    "(digit, style) samples | label accuracy of samples | digit read from z (linear probe; chance 10%) |"
    "\n|---|---|---|---|---|---|---|---|---|"
)
STYLE_HEADER = (
    "| config | steps | encoder test accuracy | test L1 | test MSE | KS vs N(0, 1) (median over dims) | "
    "KS per digit | distribution error (−log10 p) | FID-MNIST | label accuracy |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)

if __name__ == "__main__":
    kind, specs = sys.argv[1], sys.argv[2:]
    header, row = {
        "semi": (SEMI_HEADER, semi_row),
        "style": (STYLE_HEADER, style_row),
        "prior": (PRIOR_HEADER, prior_row),
    }[kind]
    print(header)
    for spec in specs:
        print(row(spec))
