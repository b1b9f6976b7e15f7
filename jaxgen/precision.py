"""Mixed precision as a policy: which operand dtype the conv layers (and the MLP models' dense layers) use,
chosen per machine.

`runtime.compute_dtype='bfloat16'` runs the conv layers' products, and the dense layers' of the MLP models
(autoencoder with model.arch=mlp or linear, VAE and AAE with mlp; 'auto' keeps those float32), on bfloat16
operands that accumulate in float32 (jaxgen/layers.py: `mixed_matmul`, `conv_mixed`, `conv_transpose_mixed`,
`dense`); parameters, optimizer states, BatchNorm, losses and every reduction stay float32. It pays only on
CPUs whose matmul units take bf16 (AVX-512 bf16, AMX) and only if the step's layout copies do not eat the
gain, so `'auto'` (the default) measures it: a gradient of the DCGAN stacks in both precisions, timed once
per CPU model and JAX version and cached in `~/.cache/jaxgen/precision.json`. Accelerators and multi-process
runs keep float32 under 'auto' (the processes of one run must trace one program; no accelerator was
measured).
`JAXGEN_COMPUTE_DTYPE=float32|bfloat16` settles 'auto' without measuring (the test suite pins float32).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from jaxgen import layers
from jaxgen.config import ConfigError

DTYPES = ("float32", "bfloat16")
MIN_SPEEDUP = 1.1  # 'auto' takes bfloat16 when the probe's gradient runs at least this much faster
ENV = "JAXGEN_COMPUTE_DTYPE"


def cache_path() -> Path:
    """Where the probe's decisions are kept, one per CPU model and JAX version."""
    return Path.home() / ".cache" / "jaxgen" / "precision.json"


def cpu_model() -> str:
    """lscpu's model name with the bf16 units it lists (the machine a timing belongs to)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine()
    names = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")]
    flags = [line for line in out.splitlines() if line.startswith("Flags")]
    units = [f for f in ("avx512_bf16", "amx_bf16") if flags and f in flags[0].split()]
    return (names[0] if names else platform.machine()) + (f" ({', '.join(units)})" if units else "")


def probe(rounds: int = 3, batch: int = 64) -> dict[str, float]:
    """Milliseconds of one gradient of the DCGAN stacks (batch 64: the discriminator's convs on 32x32x1,
    the generator's transposed convs from a 100-d code) in each dtype, best of `rounds`: the layers the
    policy changes, as training runs them (a single layer's timing varied with XLA's fusions)."""
    images = jax.random.uniform(jax.random.key(0), (batch, 32, 32, 1))
    codes = jax.random.normal(jax.random.key(1), (batch, 100))
    times = {}
    for dtype in DTYPES:
        options = layers.ConvOptions("cpu", dtype)
        down, up = layers.DownStack(conv=options), layers.UpStack(conv=options)
        variables = (down.init(jax.random.key(2), images), up.init(jax.random.key(3), codes))

        def loss(variables, down=down, up=up):
            features, _ = down.apply(variables[0], images, mutable="batch_stats")
            fakes, _ = up.apply(variables[1], codes, mutable="batch_stats")
            return jnp.mean(jnp.tanh(features)) + jnp.mean(jnp.tanh(fakes))

        grad = jax.jit(jax.grad(loss))
        jax.block_until_ready(grad(variables))
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            jax.block_until_ready(grad(variables))
            best = min(best, time.perf_counter() - start)
        times[dtype] = 1000 * best
    return times


def _key() -> str:
    return f"{cpu_model()} | jax {jax.__version__}"


@functools.cache
def cpu_decision() -> dict:
    """The cached probe result for this CPU (measured now if there is none): dtype, times, speed-up."""
    path, key = cache_path(), _key()
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    if isinstance(cached.get(key), dict) and cached[key].get("dtype") in DTYPES:
        return {**cached[key], "cached": True}
    if jax.process_index() == 0:
        print(f"[jaxgen] timing bf16 against float32 on this CPU, once (kept in {path})", file=sys.stderr)
    times = probe()
    speedup = times["float32"] / times["bfloat16"]
    decision = {
        "dtype": "bfloat16" if speedup >= MIN_SPEEDUP else "float32",
        "float32_ms": round(times["float32"], 3),
        "bfloat16_ms": round(times["bfloat16"], 3),
        "speedup": round(speedup, 3),
        "measured": time.strftime("%Y-%m-%d"),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**cached, key: decision}, indent=2) + "\n")
        tmp.replace(path)  # atomic: concurrent runs never read half a file
    except OSError:
        pass  # an unwritable home measures again next time; the decision itself stands
    return {**decision, "cached": False}


def resolve(requested: str) -> str:
    """runtime.compute_dtype with 'auto' settled (see the module docstring)."""
    if requested != "auto":
        return requested
    forced = os.environ.get(ENV, "")
    if forced:
        if forced not in DTYPES:
            raise ConfigError(f"{ENV}={forced!r}: expected one of {', '.join(DTYPES)}")
        return forced
    if jax.default_backend() != "cpu" or jax.process_count() > 1:
        return "float32"
    return cpu_decision()["dtype"]


def describe(requested: str) -> str:
    """One line for the run log: the dtype the convs use and why."""
    dtype = resolve(requested)
    how = "float32 operands" if dtype == "float32" else "bfloat16 operands accumulating in float32"
    if requested != "auto":
        return f"conv and MLP layers: {how} (runtime.compute_dtype={requested})"
    if os.environ.get(ENV):
        return f"conv layers: {how} (runtime.compute_dtype=auto, settled by {ENV})"
    if jax.default_backend() != "cpu" or jax.process_count() > 1:
        return f"conv layers: {how} (runtime.compute_dtype=auto: only a single-process CPU run is measured)"
    d = cpu_decision()
    source = f"cached in {cache_path()}" if d["cached"] else f"measured now, saved to {cache_path()}"
    return (
        f"conv layers: {how} (runtime.compute_dtype=auto: a gradient of the DCGAN stacks took "
        f"{d['float32_ms']:.1f} ms in float32, {d['bfloat16_ms']:.1f} ms in bfloat16 on this CPU, "
        f"{d['speedup']:.2f}x; {source})"
    )
