"""Print the README's GAN table from the evaluation reports (experiments/results/eval/), so no number in it
is copied by hand. A name with seeds (`gan:0,1,2`) reads <name>_seed<s>.json and prints mean ± std over them.

python experiments/gan_table.py gan:0,1,2 wgan_gp:0,1,2 lsgan began ebgan cgan acgan infogan
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reports import load_reports  # noqa: E402

# Lucic et al. 2018 (arXiv:1711.10337), best Inception-FID on MNIST over large searches: another feature
# space and protocol, shown for scale only
LUCIC = {"gan": "6.8 (NS-GAN)", "wgan_gp": "20.3", "lsgan": "7.8", "began": "13.1"}
HEADER = (
    "| config | steps | seeds | FID-MNIST ↓ | KID ↓ | precision / recall | MNIST score | class entropy | "
    "label accuracy | InfoGAN category accuracy | Lucic et al. FID |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _mean_std(values: list[float], digits: int) -> str:
    if len(values) == 1:
        return f"{round(values[0], digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.000"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def row(spec: str) -> str:
    """One table row for `name` or `name:s1,s2,...` (mean ± sample std over the seeds)."""
    name, seeds, reports = load_reports(spec)
    samples = [r["samples"] for r in reports]

    def cell(key, digits, scale=1.0):
        if key not in samples[0]:
            return "—"
        return _mean_std([scale * s[key] for s in samples], digits)

    models = [r.get("model", {}) for r in reports]
    cluster = "—"
    if "cluster_accuracy" in models[0]:  # mean ± std over the seeds, like every other cell
        accuracy = _mean_std([100 * m["cluster_accuracy"] for m in models], 2)
        error = _mean_std([100 * m["cluster_error"] for m in models], 2)
        cluster = f"{accuracy}% (error {error}%)"
    cells = [
        f"`{name}`",
        "/".join(dict.fromkeys(str(r["source"]["step"]) for r in reports)),  # each seed's, when they differ
        seeds.replace(",", ", ") if seeds else "0",
        cell("fid", 1),
        cell("kid", 4),
        f"{cell('precision', 2)} / {cell('recall', 2)}",
        cell("mnist_score", 2),
        cell("class_entropy", 3),
        cell("label_accuracy", 2, 100.0) + ("%" if "label_accuracy" in samples[0] else ""),
        cluster,
        LUCIC.get(name, "—"),
    ]
    return "| " + " | ".join(cells) + " |"


def floor_row(spec: str) -> str:
    """The real-vs-real floor of the first report (the same for every report on MNIST)."""
    floor = load_reports(spec)[2][0]["real_floor"]
    return (
        f"| real floor: 10,000 train vs test images | — | — | {floor['fid']:.2f} | {floor['kid']:.4f} | "
        f"{floor['precision']:.2f} / {floor['recall']:.2f} | {floor['mnist_score']:.2f} | "
        f"{floor['class_entropy']:.3f} | {100 * floor['label_accuracy']:.2f}% | — | — |"
    )


if __name__ == "__main__":
    print(HEADER)
    for spec in sys.argv[1:]:
        print(row(spec))
    print(floor_row(sys.argv[1]))
