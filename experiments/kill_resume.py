"""Kill a real training run many times, at random moments and while it writes checkpoints, and check that
the run it finally completes equals an uninterrupted one bit for bit.

    python experiments/kill_resume.py                       # 20 kills, results/kill_resume.json
    python experiments/kill_resume.py --kills 5 --steps 200 # quicker

The run is configs/gan.py at width 8 on MNIST, checkpointed every 25 steps. Odd kills land at a random
moment of the run (start-up included); even kills wait until a checkpoint is being written
(checkpoints/.tmp-<step> exists; the first, second or third of that start-up) and kill it then. Every kill is
SIGKILL: nothing of the trainer runs after. A run that completes between kills ends a round; the next round
starts a new interrupted run, until all kills are spent. Every round must end at the uninterrupted run's
parameters and metrics log.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def command(workdir: Path, steps: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jaxgen.main",
        "--config=configs/gan.py",
        f"--workdir={workdir}",
        "--config.model.width=8",
        f"--config.train.num_steps={steps}",
        "--config.train.checkpoint_every=25",
        "--config.train.log_every=25",
        "--config.train.eval_every=100000",
    ]


def final_params(workdir: Path, step: int) -> dict[str, np.ndarray]:
    import jax
    import orbax.checkpoint as ocp

    from jaxgen import checkpoints

    folder = workdir / "checkpoints" / str(step)
    problem = checkpoints.damage(folder)
    if problem:
        raise RuntimeError(f"{folder}: {problem}")
    restored = ocp.StandardCheckpointer().restore((folder / "state").absolute())
    return {jax.tree_util.keystr(p): np.asarray(v) for p, v in jax.tree_util.tree_leaves_with_path(restored)}


def metric_lines(workdir: Path) -> list[dict]:
    """The metrics log without its timing fields (they differ between any two runs)."""
    records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.endswith("_per_s")} for r in records]


def newest_step(workdir: Path) -> int | None:
    folder = workdir / "checkpoints"
    steps = [int(p.name) for p in folder.iterdir() if p.name.isdigit()] if folder.is_dir() else []
    return max(steps, default=None)


def kill_during_save(process: subprocess.Popen, workdir: Path, skip: int, timeout: float) -> bool:
    """SIGKILL the process while it writes its (skip + 1)-th checkpoint; False if it finished first."""
    deadline, seen = time.time() + timeout, set()
    while time.time() < deadline and process.poll() is None:
        seen.update(p.name for p in (workdir / "checkpoints").glob(".tmp-*"))
        if len(seen) > skip:
            process.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.002)
    return False


def kill_at_random(process: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL the process after `seconds`; False if it finished first."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        return True


def interrupted_round(workdir: Path, steps: int, kills_left: int, rng: random.Random, span: float) -> list:
    """Kill a run until it completes or kills_left kills are spent, then let it complete; the kills."""
    kills = []
    while len(kills) < kills_left:
        before = newest_step(workdir)
        process = subprocess.Popen(
            command(workdir, steps), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if len(kills) % 2:
            kind, hit = "during a save", kill_during_save(process, workdir, rng.randint(0, 2), 10 * span)
        else:
            kind, hit = "random moment", kill_at_random(process, rng.uniform(0.5, span))
        process.wait()
        if not hit:
            return kills  # the run completed between kills
        kills.append({"kind": kind, "resumed_from": before, "newest_checkpoint_after": newest_step(workdir)})
        print(f"{workdir.name}, kill {len(kills)}: {kills[-1]}", flush=True)
    finish = subprocess.run(command(workdir, steps), cwd=REPO, capture_output=True, text=True)
    if finish.returncode != 0:
        raise SystemExit(finish.stderr[-3000:])
    return kills


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--workdir", type=Path, default=Path("runs/kill_resume"))
    parser.add_argument("--out", type=Path, default=REPO / "experiments/results/kill_resume.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    shutil.rmtree(args.workdir, ignore_errors=True)
    reference = args.workdir / "reference"

    started = time.time()
    subprocess.run(command(reference, args.steps), cwd=REPO, check=True, capture_output=True)
    reference_seconds = time.time() - started
    print(f"uninterrupted run: {reference_seconds:.0f} s", flush=True)

    rounds, total = [], 0
    while total < args.kills:
        workdir = args.workdir / f"interrupted_{len(rounds)}"
        kills = interrupted_round(workdir, args.steps, args.kills - total, rng, reference_seconds / 2)
        total += len(kills)
        a, b = final_params(reference, args.steps), final_params(workdir, args.steps)
        rounds.append(
            {
                "kills": kills,
                "leaves": len(a),
                "leaves_differing": [name for name in a if not np.array_equal(a[name], b.get(name))],
                "bit_identical": a.keys() == b.keys() and all(np.array_equal(a[n], b[n]) for n in a),
                "metrics_log_identical": metric_lines(reference) == metric_lines(workdir),
                "damaged_set_aside": sorted(p.name for p in (workdir / "checkpoints" / "damaged").glob("*")),
            }
        )
    result = {
        "command": " ".join(command(Path("<workdir>"), args.steps)[1:]),
        "kills": total,
        "rounds": rounds,
        "all_bit_identical": all(r["bit_identical"] and r["metrics_log_identical"] for r in rounds),
        "uninterrupted_seconds": round(reference_seconds, 1),
        "total_seconds": round(time.time() - started, 1),
        "cpu": cpu_model(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=2))


if __name__ == "__main__":
    main()
