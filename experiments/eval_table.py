"""Print a markdown table row per evaluation report, so README numbers are copied by a program, not by hand.
A name with seeds (`ae:0,1,2`) reads <name>_seed<s>.json and prints mean ± sample std over them.

python experiments/eval_table.py ae_mlp vae vaegan ae:0,1,2   # reads experiments/results/eval/<name>.json
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "eval"
HEADER = (
    "| config | steps | test MSE | test BCE | codes | 5-NN | linear probe | ELBO / IWAE (nats) | "
    "FID-MNIST of samples | precision / recall |\n|---|---|---|---|---|---|---|---|---|---|"
)


def spread(values: list[float], fmt: str) -> str:
    """One value, or mean ± sample std over seeds."""
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.stdev(values))}"


def row(spec: str) -> str:
    """One row of HEADER from experiments/results/eval/<name>.json, or <name>_seed<s>.json for each seed."""
    name, _, seeds = spec.partition(":")
    files = [f"{name}_seed{s}.json" for s in seeds.split(",")] if seeds else [f"{name}.json"]
    reports = [json.loads((RESULTS / f).read_text()) for f in files]
    models, samples = [r["model"] for r in reports], [r.get("samples", {}) for r in reports]

    def cell(key: str, fmt: str, scale: float = 1.0, source: list[dict] = models) -> str:
        return spread([scale * m[key] for m in source], fmt)

    bounds = "—"
    if "elbo" in models[0]:
        bounds = f"{cell('elbo', '{:.2f}')} / {cell('iwae_bound', '{:.2f}')}"
        if models[0]["likelihood_images"] != 10_000:
            bounds += f" ({models[0]['likelihood_images']} images)"
    sampled = "fid" in samples[0]
    cells = [
        f"`{name}`" + (f" seeds {seeds.replace(',', ', ')}" if seeds else ""),
        "/".join(sorted({str(r["source"]["step"]) for r in reports})),
        cell("test_mse", "{:.5f}"),
        cell("test_bce", "{:.4f}"),
        f"{models[0]['code_dim']}-d",
        cell("knn5_accuracy", "{:.2f}", 100.0) + "%",
        cell("linear_probe_accuracy", "{:.2f}", 100.0) + "%",
        bounds,
        cell("fid", "{:.1f}", source=samples) if sampled else "—",
        f"{cell('precision', '{:.2f}', source=samples)} / {cell('recall', '{:.2f}', source=samples)}"
        if sampled
        else "—",
    ]
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    print(HEADER)
    for name in sys.argv[1:]:
        print(row(name))
