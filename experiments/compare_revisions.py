"""Train the same configs with an earlier revision of jaxgen and with this checkout; compare bit for bit.

For refactors that must not change behaviour:
    python experiments/compare_revisions.py --base 938932c --configs classifier gan ae --steps 40

Each config trains `--steps` steps (a log every 10, an evaluation at the end) in a git worktree of the base
revision and in this checkout, one after the other, on MNIST from the local cache. The parameters after the
last step and the logged losses and test metrics (not the timings) are compared; the result goes to
experiments/results/compare_revisions.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

# Runs inside a checkout (its own jaxgen first on sys.path): train, then save params and the metrics log.
RUN = """
import importlib.util, sys
from pathlib import Path
import jax, numpy as np
from jaxgen import train
name, steps, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
spec = importlib.util.spec_from_file_location(name, f"configs/{name}.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
config = module.get_config()
config.train.num_steps, config.train.log_every = steps, 10
config.train.eval_every = config.train.checkpoint_every = steps
ts = train.train(config, out / "work")
leaves = jax.tree_util.tree_leaves_with_path(ts["params"])
np.savez(out / "params.npz", **{jax.tree_util.keystr(p): np.asarray(v) for p, v in leaves})
"""


def run(checkout: Path, name: str, steps: int, out: Path) -> None:
    out.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", RUN, name, str(steps), str(out)], cwd=checkout, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{checkout}: {name} failed:\n{done.stderr[-3000:]}")


def logged(out: Path) -> list[dict]:
    """Losses and test metrics per logged step (test metrics under their shared names only)."""
    records = [json.loads(line) for line in (out / "work" / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.endswith("_per_s")} for r in records]


def compare(base: Path, head: Path) -> dict:
    a, b = np.load(base / "params.npz"), np.load(head / "params.npz")
    differing = sorted(set(a.files) ^ set(b.files)) + [
        k for k in a.files if k in b.files and not np.array_equal(a[k], b[k])
    ]
    old, new = logged(base), logged(head)
    train_same = [r for r in old if r["kind"] == "train"] == [r for r in new if r["kind"] == "train"]
    old_eval, new_eval = (next((r for r in rs if r["kind"] == "eval"), {}) for rs in (old, new))
    shared = sorted(set(old_eval) & set(new_eval) - {"kind", "step"})
    return {
        "params_bit_identical": not differing,
        "leaves": len(a.files),
        "leaves_differing": differing,
        "train_log_identical": train_same,
        "shared_test_metrics_identical": all(old_eval[k] == new_eval[k] for k in shared),
        "test_metrics": {"base": old_eval, "head": new_eval},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier revision (a commit)")
    parser.add_argument("--configs", nargs="+", default=["classifier", "gan", "ae"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--out", type=Path, default=REPO / "experiments/results/compare_revisions.json")
    args = parser.parse_args()
    head_commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base_tree), args.base],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        try:
            results = {}
            for name in args.configs:
                run(base_tree, name, args.steps, Path(tmp) / name / "base")
                run(REPO, name, args.steps, Path(tmp) / name / "head")
                results[name] = compare(Path(tmp) / name / "base", Path(tmp) / name / "head")
                print(name, {k: v for k, v in results[name].items() if k != "test_metrics"}, flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=REPO, check=False)
    record = {
        "base": args.base,
        "head": f"{head_commit} (and the uncommitted changes, if any)",
        "steps": args.steps,
        "results": results,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
