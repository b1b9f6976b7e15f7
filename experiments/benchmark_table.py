"""Print a benchmark file's table: best images/s per side and the achieved fraction of the matmul peak.

python experiments/benchmark_table.py experiments/results/benchmark_flops.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# runtime.compute_dtype applies to conv layers only: for these MLP models the bfloat16 run is float32 again
NO_CONVS = {"vae", "ae_mlp", "aae"}


def main(path: str) -> None:
    results = json.loads(Path(path).read_text())
    peaks = results["peak_gflops"]
    loads = [r["load_1min"] for r in results["runs"]]
    print(
        f"| model ({results['cpu_model']}, batch {results['batch']}, load {min(loads):.2f}–{max(loads):.2f}) "
        f"| jaxgen float32 img/s | share of the float32 matmul peak ({peaks['float32']:.0f} GFLOP/s) "
        f"| jaxgen bfloat16 convs img/s | share of the bfloat16 peak ({peaks['bfloat16']:.0f} GFLOP/s) |"
    )
    print("|---|---|---|---|---|")
    for model, best in results["summary"].items():
        if model in NO_CONVS:
            best = {k: v for k, v in best.items() if not k.startswith("jax_bf16")}
        cells = [
            f"`{model}`",
            f"{best['jax']:.0f}",
            f"{best['jax_peak_fraction']:.0%}",
            f"{best['jax_bf16']:.0f}" if "jax_bf16" in best else "— (no convs)",
            f"{best['jax_bf16_peak_fraction']:.0%}" if "jax_bf16_peak_fraction" in best else "—",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
