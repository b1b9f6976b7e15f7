"""Print the README's domain-translation tables from the evaluation reports (experiments/results/eval/), so
no number in it is copied by hand: one row per translation direction of each report, and one per CoGAN.

python experiments/translation_table.py pix2pix pix2pix_l1 pix2pix_coloured cyclegan
python experiments/translation_table.py --pairs cogan cogan_negative
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "eval"
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


def pair_row(name: str) -> str:
    report = json.loads((RESULTS / f"{name}.json").read_text())
    model, source = report["model"], report["source"]
    target = model["pair_domains"].split(" → ")[-1]
    agreement = model.get("pair_pixel_agreement")
    cells = [
        f"`{name}`",
        model["pair_domains"],
        str(source["step"]),
        minutes(source.get("train_wall_s")),
        "—" if agreement is None else f"{agreement:.3f}",
        PAPER_AGREEMENT.get(target, "—"),
        f"{100 * model['pair_digit_agreement']:.2f}%",
        f"{report['samples']['fid']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def rows(name: str) -> list[str]:
    report = json.loads((RESULTS / f"{name}.json").read_text())
    model, source = report["model"], report["source"]
    out = []
    for tag in ("ab", "ba"):
        if f"translation_{tag}_l1" not in model:
            continue
        classifier = model.get(f"translation_{tag}_classifier", {})
        preservation = model.get(f"translation_{tag}_digit_preservation")
        cycle = model.get(f"test_cycle_l1_{'aba' if tag == 'ab' else 'bab'}")
        cells = [
            f"`{name}`",
            model[f"translation_{tag}_domains"],
            str(source["step"]),
            minutes(source.get("train_wall_s")),
            f"{model[f'translation_{tag}_l1']:.4f}",
            f"{model[f'translation_{tag}_ssim']:.3f}",
            "—" if preservation is None else f"{100 * preservation:.2f}%",
            "—" if not classifier else f"{100 * classifier['test_accuracy']:.2f}% ({classifier['domain']})",
            "—" if f"translation_{tag}_fid" not in model else f"{model[f'translation_{tag}_fid']:.2f}",
            "—" if cycle is None else f"{cycle:.4f}",
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
