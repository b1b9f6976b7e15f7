"""Print the README's domain-translation tables from the evaluation reports (experiments/results/eval/), so
no number in it is copied by hand: one row per translation direction of each report, and one per CoGAN.

python experiments/translation_table.py pix2pix:0,1,2 pix2pix_l1:0,1,2 pix2pix_coloured:0,1,2 cyclegan
python experiments/translation_table.py --pairs cogan cogan_long:0,1,2 cogan_negative:0,1,2
"""

from __future__ import annotations

import sys

from gan_table import _mean_std
from reports import load_reports

HEADER = (
    "| config | direction | steps | CPU wall time | L1 ↓ | SSIM ↑ | digit preservation ↑ (bar ≥ 95%) | "
    "target classifier on the true transform | FID in the target domain ↓ | cycle L1 ↓ |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


PAIRS_HEADER = (
    "| config | domains | steps | CPU wall time | pixel agreement ↑ (bar ≥ 0.93) | paper | "
    "same digit read in both ↑ | FID-MNIST of the domain-A images ↓ |\n|---|---|---|---|---|---|---|---|"
)
PAPER_AGREEMENT = {"edges": "0.952", "negative": "0.967"}  # Liu & Tuzel 2016, Table 1


def pair_row(spec: str) -> str:
    """The row of CoGAN report `name`, or of `name:s1,s2,...` (mean ± sample std over the seeds, wall time
    their mean)."""
    name, seeds, reports = load_reports(spec)
    models, source = [r["model"] for r in reports], reports[0]["source"]
    target = models[0]["pair_domains"].split(" → ")[-1]
    agreement = [m.get("pair_pixel_agreement") for m in models]
    cells = [
        run_label(name, seeds),
        models[0]["pair_domains"],
        str(source["step"]),
        mean_minutes(reports),
        "—" if None in agreement else _mean_std(agreement, 3),
        PAPER_AGREEMENT.get(target, "—"),
        _mean_std([100 * m["pair_digit_agreement"] for m in models], 2) + "%",
        _mean_std([r["samples"]["fid"] for r in reports], 1),
    ]
    return "| " + " | ".join(cells) + " |"


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def mean_minutes(reports: list[dict]) -> str:
    """The reports' mean training wall time in minutes ('—' if any run did not record it)."""
    walls = [r["source"].get("train_wall_s") for r in reports]
    return minutes(None if None in walls else sum(walls) / len(walls))


def run_label(name: str, seeds: str) -> str:
    """'`name`', or '`name` (seeds 0, 1, 2)' for seeds '0,1,2'."""
    if not seeds:
        return f"`{name}`"
    return f"`{name}` (seed{'s' if ',' in seeds else ''} {seeds.replace(',', ', ')})"


def rows(spec: str) -> list[str]:
    """One row per direction of `name`, or of `name:s1,s2,...` (seed s: name_seed<s>.json; mean ± sample
    std over the seeds, wall time their mean)."""
    name, seeds, reports = load_reports(spec)
    models, source = [r["model"] for r in reports], reports[0]["source"]
    out = []
    for tag in ("ab", "ba"):
        if f"translation_{tag}_l1" not in models[0]:
            continue

        def cell(key, digits, scale=1.0, unit=""):
            if key not in models[0]:
                return "—"
            return _mean_std([scale * m[key] for m in models], digits) + unit

        classifier = models[0].get(f"translation_{tag}_classifier", {})
        cells = [
            run_label(name, seeds),
            models[0][f"translation_{tag}_domains"],
            str(source["step"]),
            mean_minutes(reports),
            cell(f"translation_{tag}_l1", 4),
            cell(f"translation_{tag}_ssim", 3),
            cell(f"translation_{tag}_digit_preservation", 2, 100.0, "%"),
            "—" if not classifier else f"{100 * classifier['test_accuracy']:.2f}% ({classifier['domain']})",
            cell(f"translation_{tag}_fid", 2),
            cell(f"test_cycle_l1_{'aba' if tag == 'ab' else 'bab'}", 4),
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pairs"]:
        print(PAIRS_HEADER)
        print("\n".join(pair_row(name) for name in sys.argv[2:]))
    else:
        print(HEADER)
        print("\n".join(line for name in sys.argv[1:] for line in rows(name)))
