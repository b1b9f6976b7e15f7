"""Per-layer timings behind jaxgen's mixed-precision conv rules: each DCGAN layer (batch 64, width 64) as
the `cpu` lowering runs it in float32 and as `runtime.compute_dtype=bfloat16` runs it, forward alone and
forward + gradient (of the input and the kernel), best of 3 repetitions of 10 calls.

    python experiments/mixed_layers.py --out experiments/results/mixed_layers.json
    python experiments/mixed_layers.py --table experiments/results/mixed_layers.json   # the README's table
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from jaxgen import layers, precision

# (transposed?, input side, input channels, output channels): the discriminator's convs, then the
# generator's transposed convs (its first layer is a dense projection)
DCGAN_LAYERS = [(False, 32, 1, 64), (False, 16, 64, 128), (False, 8, 128, 256), (False, 4, 256, 512),
                (True, 4, 256, 128), (True, 8, 128, 64), (True, 16, 64, 1)]  # fmt: skip


def best_ms(fn, *args, calls: int = 10, repeats: int = 3) -> float:
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            jax.block_until_ready(fn(*args))
        best = min(best, (time.perf_counter() - start) / calls)
    return 1000 * best


def time_layer(transpose: bool, side: int, c_in: int, c_out: int, dtype: str, batch: int = 64) -> dict:
    conv = layers.Conv(c_out, transpose=transpose, conv=layers.ConvOptions("cpu", dtype))
    x = jax.random.normal(jax.random.key(0), (batch, side, side, c_in))
    variables = conv.init(jax.random.key(1), x)
    forward = jax.jit(conv.apply)
    gradient = jax.jit(jax.grad(lambda v, x: jnp.sum(jnp.tanh(conv.apply(v, x))), argnums=(0, 1)))
    return {"forward_ms": best_ms(forward, variables, x), "gradient_ms": best_ms(gradient, variables, x)}


def table(path: Path) -> None:
    """A recorded file's rows as a markdown table: milliseconds and the mixed form's speed-up."""
    record = json.loads(path.read_text())
    loads = [row["load_1min"] for row in record["layers"]]
    print(
        f"| layer ({record['cpu_model']}, batch {record['batch']}, load {min(loads):.2f}–{max(loads):.2f}) "
        "| float32 forward / with gradient | mixed forward / with gradient | speed-up with gradient |"
    )
    print("|---|---|---|---|")
    for row in record["layers"]:
        f32, b16 = row["float32"], row["bfloat16"]
        print(
            f"| {row['layer'].replace('->', '→')} | {f32['forward_ms']:.2f} / {f32['gradient_ms']:.2f} ms "
            f"| {b16['forward_ms']:.2f} / {b16['gradient_ms']:.2f} ms "
            f"| {f32['gradient_ms'] / b16['gradient_ms']:.2f}× |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--table", type=Path, default=None, help="print a recorded file's table and stop")
    args = parser.parse_args()
    if args.table:
        return table(args.table)
    rows = []
    print(precision.cpu_model())
    for transpose, side, c_in, c_out in DCGAN_LAYERS:
        row = {"layer": f"{'convT' if transpose else 'conv'} {side}x{side}x{c_in} -> {c_out}"}
        row["load_1min"] = os.getloadavg()[0]
        for dtype in ("float32", "bfloat16"):
            row[dtype] = time_layer(transpose, side, c_in, c_out, dtype)
        rows.append(row)
        f32, b16 = row["float32"], row["bfloat16"]
        print(
            f"{row['layer']:24s} float32 {f32['forward_ms']:6.2f} / {f32['gradient_ms']:6.2f} ms, "
            f"mixed {b16['forward_ms']:6.2f} / {b16['gradient_ms']:6.2f} ms (forward / with gradient), "
            f"load {row['load_1min']:.2f}",
            flush=True,
        )
    if args.out:
        record = {"cpu_model": precision.cpu_model(), "jax": jax.__version__, "batch": 64, "layers": rows}
        args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
