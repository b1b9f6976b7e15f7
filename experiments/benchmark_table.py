"""Print a benchmark file's table: best images/s per side and the achieved fraction of the matmul peak
(with PyTorch's sides and compile times, where the file has them).

python experiments/benchmark_table.py experiments/results/benchmark_flops.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# files from before runtime.compute_dtype reached dense layers (no "mixed_dense" key): their bfloat16 runs of
# these MLP models were float32 again
NO_CONVS = {"vae", "ae_mlp", "aae"}


def float32_only(results: dict) -> set[str]:
    """The models whose mixed-precision runs in this file computed in float32."""
    return set() if results.get("mixed_dense") else NO_CONVS


def comparison(results: dict) -> None:
    """jaxgen's float32 and mixed steps beside PyTorch's float32 and bf16 autocast (each the best of 1
    and 2 threads on a CPU; on CUDA for a GPU file), the ratio of the bests, the share of the peak of the
    precision jaxgen's best runs in, and jaxgen's compile times (cold; from the persistent cache)."""
    peaks, loads = results["peak_gflops"], [r["load_1min"] for r in results["runs"]]
    k = results.get("steps_per_call", 1)
    calls = f"jaxgen {k} step{'s' * (k > 1)} per call"
    gpu = results.get("backend") == "gpu"
    where = f"{results['device_kind']}, PyTorch on CUDA" if gpu else results["cpu_model"]
    unit, scale = ("TFLOP/s", 1e-3) if gpu else ("GFLOP/s", 1)
    print(
        f"| model ({where}, batch {results['batch']}, {calls}, "
        f"load {min(loads):.2f}–{max(loads):.2f}) | jaxgen float32 img/s | jaxgen mixed img/s "
        "| PyTorch float32 img/s | PyTorch bf16 autocast img/s "
        "| jaxgen best / PyTorch best | jaxgen best: share of its peak "
        f"(fp32 {peaks['float32'] * scale:.0f}, bf16 {peaks['bfloat16'] * scale:.0f} {unit}) "
        "| compile cold / cached |"
    )
    print("|---|---|---|---|---|---|---|---|")
    compiles = {(c["model"], c["side"]): c for c in results["compile"]}
    no_mixed = float32_only(results)
    for model, best in results["summary"].items():
        fp32 = max(v for k, v in best.items() if k.startswith("torch_") and "bf16" not in k)
        bf16 = max(v for k, v in best.items() if k.startswith("torch_bf16"))
        ours = "jax_bf16" if model not in no_mixed and best["jax_bf16"] > best["jax"] else "jax"
        compile_ = compiles[(model, ours)]
        precision = "bf16" if ours == "jax_bf16" else "fp32"
        cells = [
            f"`{model}`",
            f"{best['jax']:.0f}",
            f"{best['jax_bf16']:.0f}" if model not in no_mixed else "— (no convs)",
            f"{fp32:.0f}",
            f"{bf16:.0f}",
            f"**{best[ours] / max(fp32, bf16):.2f}×**",
            f"{best[ours + '_peak_fraction']:.{2 if gpu else 0}%} ({precision})",
            f"{compile_['cold_s']:.1f} s / {compile_['cached_s']:.2f} s",
        ]
        print("| " + " | ".join(cells) + " |")


def main(path: str) -> None:
    results = json.loads(Path(path).read_text())
    if any(r["side"].startswith("torch") for r in results["runs"]) and results.get("compile"):
        return comparison(results)
    peaks = results["peak_gflops"]
    loads = [r["load_1min"] for r in results["runs"]]
    print(
        f"| model ({results['cpu_model']}, batch {results['batch']}, load {min(loads):.2f}–{max(loads):.2f}) "
        f"| jaxgen float32 img/s | share of the float32 matmul peak ({peaks['float32']:.0f} GFLOP/s) "
        f"| jaxgen bfloat16 convs img/s | share of the bfloat16 peak ({peaks['bfloat16']:.0f} GFLOP/s) |"
    )
    print("|---|---|---|---|---|")
    for model, best in results["summary"].items():
        if model in float32_only(results):
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
