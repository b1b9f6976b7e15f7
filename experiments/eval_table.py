"""Print a markdown table row per evaluation report, so README numbers are copied by a program, not by hand.
A name with seeds (`ae:0,1,2`) reads <name>_seed<s>.json (seed 0: <name>.json when that is missing, as
experiments/reports.py reads every spec) and prints mean ± sample std over them.

python experiments/eval_table.py ae_mlp vae vaegan ae:0,1,2   # reads experiments/results/eval/<name>.json
"""

from __future__ import annotations

import sys

from gan_table import _mean_std
from reports import load_reports

HEADER = (
    "| config | steps | test MSE | test BCE | codes | 5-NN | linear probe | ELBO / IWAE (nats) | "
    "FID-MNIST of samples | precision / recall |\n|---|---|---|---|---|---|---|---|---|---|"
)


def row(spec: str) -> str:
    """One row of HEADER from experiments/results/eval/<name>.json, or <name>_seed<s>.json for each seed."""
    name, seeds, reports = load_reports(spec)
    models, samples = [r["model"] for r in reports], [r.get("samples", {}) for r in reports]

    def cell(key: str, digits: int, scale: float = 1.0, source: list[dict] = models) -> str:
        return _mean_std([scale * m[key] for m in source], digits)

    bounds = "—"
    if "elbo" in models[0]:
        bounds = f"{cell('elbo', 2)} / {cell('iwae_bound', 2)}"
        if models[0]["likelihood_images"] != 10_000:
            bounds += f" ({models[0]['likelihood_images']} images)"
        dtypes = {m.get("likelihood_dtype", "float32") for m in models}  # reports before the option: float32
        if dtypes != {"float32"}:
            bounds += f" ({' / '.join(sorted(dtypes))} products)"
    sampled = "fid" in samples[0]
    cells = [
        f"`{name}`" + (f" seeds {seeds.replace(',', ', ')}" if seeds else ""),
        "/".join(sorted({str(r["source"]["step"]) for r in reports})),
        cell("test_mse", 5),
        cell("test_bce", 4),
        f"{models[0]['code_dim']}-d",
        cell("knn5_accuracy", 2, 100.0) + "%",
        cell("linear_probe_accuracy", 2, 100.0) + "%",
        bounds,
        cell("fid", 1, source=samples) if sampled else "—",
        f"{cell('precision', 2, source=samples)} / {cell('recall', 2, source=samples)}" if sampled else "—",
    ]
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    print(HEADER)
    for name in sys.argv[1:]:
        print(row(name))
