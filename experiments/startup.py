"""Start-up to first step: how long `python -m jaxgen.main` takes before it trains, cold and from the
persistent compilation cache.

For each config, two runs into a new workdir, the first with an empty `$JAXGEN_CACHE_DIR`, the second
reusing it; each is stopped once its first compiled call has returned. Times are from launching the
process: to the run's first log line about the model (imports, MNIST from its cache, parameters
initialised) and to the end of the first call (compilation + one step). MNIST must be in its cache
already (any earlier run puts it there); the mixed-precision decision of runtime.compute_dtype=auto is
whatever `~/.cache/jaxgen/precision.json` holds (its one-off probe is reported by jaxgen.precision).

    python experiments/startup.py --out experiments/results/startup.json
    python experiments/startup.py --table experiments/results/startup.json   # the README's table
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("classifier", "gan", "wgan_gp", "vae", "aae")


def time_start(config: str, cache_dir: str, workdir: str) -> dict[str, float]:
    """Seconds from launch to the 'model ...' log line and to the end of the first compiled call."""
    env = {**os.environ, "JAXGEN_CACHE_DIR": cache_dir}
    command = [sys.executable, "-m", "jaxgen.main", f"--config=configs/{config}.py", f"--workdir={workdir}"]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    marks, buffer = {}, b""
    try:
        while "first_step_s" not in marks:
            chunk = process.stderr.read1(4096)
            if not chunk:
                raise RuntimeError(f"{config} ended before its first step: {buffer[-500:].decode()}")
            buffer += chunk
            now = time.perf_counter() - start
            if b"[jaxgen] model " in buffer and "model_s" not in marks:
                marks["model_s"] = now
            if b"[jaxgen] first call" in buffer:
                marks["first_step_s"] = now
    finally:
        process.kill()
        process.wait()
    return marks


def table(path: Path) -> None:
    """A recorded file's rows as a markdown table."""
    runs = json.loads(path.read_text())["runs"]
    loads = [row["load_1min"] for row in runs]
    print(
        f"| config (load {min(loads):.2f}–{max(loads):.2f}) | launch → model built "
        "| launch → first step done, "
        "empty compilation cache | the same, from the cache |"
    )
    print("|---|---|---|---|")
    for row in runs:
        cold, cached = row["cold"], row["cached"]
        print(
            f"| `configs/{row['config']}.py` | {cold['model_s']:.1f} s | {cold['first_step_s']:.1f} s "
            f"| {cached['first_step_s']:.1f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--table", type=Path, default=None, help="print a recorded file's table and stop")
    args = parser.parse_args()
    if args.table:
        return table(args.table)
    rows = []
    for config in args.configs:
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
            row = {"config": config, "load_1min": os.getloadavg()[0]}
            for run in ("cold", "cached"):
                row[run] = time_start(config, cache, str(Path(work) / run))
            rows.append(row)
        cold, cached = row["cold"], row["cached"]
        print(
            f"{config:12s} to the model line {cold['model_s']:5.1f} s; to the end of the first step: cold "
            f"{cold['first_step_s']:5.1f} s, cached {cached['first_step_s']:5.1f} s "
            f"(load {row['load_1min']:.2f})",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps({"runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
