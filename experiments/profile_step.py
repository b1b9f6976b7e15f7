"""Where a benchmark model's compiled training step spends its time on this machine: a `jax.profiler` trace
of a few 10-step calls (experiments/benchmark.py's step, batch 64, random data), each executed op mapped to
its compiled HLO instruction and the model layer in that instruction's metadata.

    python experiments/profile_step.py style_aae                 # mixed precision (bfloat16 convs)
    python experiments/profile_step.py gan --dtype float32 --top 30

Prints ms per training step: the step alone (best of 5 calls), the most expensive ops (name, output shape,
layer), then the ops summed per layer and direction (forward / backward). Op times overlap where XLA:CPU
runs two at once, so the sums can exceed the step's time.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import re
import tempfile
import time
from pathlib import Path

import jax
from benchmark import build_step  # experiments/, this script's folder

STEPS_PER_CALL = 10
RUNTIME_EVENTS = ("ThunkExecutor", "$", "PjitFunction", "SlinkyThreadPool")


def op_times(trace_dir: Path) -> collections.Counter:
    """Total microseconds per executed op name over the trace."""
    trace = sorted(trace_dir.glob("**/*.trace.json.gz"))[-1]
    totals = collections.Counter()
    for event in json.loads(gzip.open(trace).read())["traceEvents"]:
        if event.get("ph") == "X" and not event["name"].startswith(RUNTIME_EVENTS):
            totals[event["name"]] += event["dur"]
    return totals


def instructions(hlo_text: str) -> dict[str, tuple[str, str]]:
    """HLO instruction name -> (output shape, op_name metadata without the jit/loop prefix)."""
    found = {}
    for line in hlo_text.splitlines():
        match = re.match(r"\s*(?:ROOT )?%([\w.-]+) = (\S+) ", line)
        if match:
            meta = re.search(r'op_name="([^"]+)"', line)
            layer = meta.group(1).split("closed_call/")[-1] if meta else ""
            found[match.group(1)] = (match.group(2).split("{")[0], layer)
    return found


def layer_of(op_name: str) -> str:
    """'fwd Encoder/Conv_1' or 'bwd Decoder/GroupNorm_0' from an op_name like
    'transpose(jvp(ConvStyleDecoder))/GroupNorm_0/reduce_sum'."""
    direction = "bwd" if op_name.startswith("transpose(") else "fwd"
    parts = [re.sub(r"^\w+\((?:\w+\()?|\)+$", "", p) for p in op_name.split("/")[:-1]]
    return f"{direction} {'/'.join(parts) or '(step)'}"


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("model", help="a benchmark model: classifier ae gan wgan style_aae vae ae_mlp aae")
    parser.add_argument("--dtype", default="bfloat16", choices=("float32", "bfloat16"))
    parser.add_argument("--top", type=int, default=25, help="how many ops to list")
    parser.add_argument("--calls", type=int, default=3, help="10-step calls in the trace")
    args = parser.parse_args()

    step, step_args = build_step(args.model, 64, "cpu", STEPS_PER_CALL, args.dtype)
    state, rest = step_args[0], step_args[1:]

    def call(state):
        state, metrics = step(state, *rest)
        return jax.block_until_ready((state, metrics))[0]

    for _ in range(2):
        state = call(state)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        state = call(state)
        best = min(best, time.perf_counter() - start)
    per_step = 1 / (1e3 * args.calls * STEPS_PER_CALL)  # microseconds over the trace -> ms a step
    print(f"{args.model} ({args.dtype}): {best / STEPS_PER_CALL * 1e3:.2f} ms a step, best of 5 calls")

    with tempfile.TemporaryDirectory() as trace_dir:
        with jax.profiler.trace(trace_dir):
            for _ in range(args.calls):
                state = call(state)
        totals = op_times(Path(trace_dir))
    hlo = instructions(step.lower(state, *rest).compile().as_text())

    print("\nmost expensive ops (ms a step):")
    for name, micros in totals.most_common(args.top):
        shape, layer = hlo.get(name, ("?", ""))
        print(f"{micros * per_step:7.3f}  {name:34s} {shape:28s} {layer}")
    by_layer = collections.Counter()
    for name, micros in totals.items():
        by_layer[layer_of(hlo.get(name, ("", ""))[1])] += micros
    print(f"\nby layer (ms a step; all ops {sum(totals.values()) * per_step:.2f}):")
    for layer, micros in by_layer.most_common(args.top):
        print(f"{micros * per_step:7.3f}  {layer}")


if __name__ == "__main__":
    main()
