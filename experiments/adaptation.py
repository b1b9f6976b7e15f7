"""Unsupervised domain adaptation with UNIT (configs/unit.py): classify a target domain's digits with no
target label, beside a source-only baseline and a target-supervised upper bound, on every target.

Source: MNIST with its labels. Targets: the UCI handwritten digits (another dataset: other writers and
scanner) and the derived domains edges, negative, rotated, thick and coloured (from the half of MNIST train
that domain A never sees; tested on the 10,000 test digits in that domain).

- UNIT: `configs/unit.py` per target (its classifier on the shared latent reads the target's codes), trained
  to --steps, then `--mode=eval`; the report is copied to experiments/results/eval/unit_<target>[_seedS].json.
  The UCI digits take `configs/unit_semantic.py` (UNIT with CyCADA's semantic consistency: the source
  classifier reads every translation), the coloured digits `configs/unit_coloured.py` (UNIT with a style
  per domain beside the shared code).
- Source-only: the packaged MNIST classifier (jaxgen/assets/mnist_classifier.npz, 99.23% on MNIST; a
  stronger network than UNIT's latent classifier) applied to the target's test split; coloured digits are
  read through the mean of their channels.
- Matching alone (the targets whose config sets data.match_b): the labels Gromov-Wasserstein matching gives
  domain B's training images, and each test image labelled as its nearest matched training image.
- Target-supervised: a classifier trained on the target's own labelled training images: the packaged
  classifier of each derived domain (jaxgen/assets/<domain>_classifier.npz, 60,000 labelled images), and
  for the UCI digits the same network trained here on their 1,347 labelled images (runs/adapt_uci_supervised).

    python experiments/adaptation.py run --targets=uci_digits,edges --steps=4000 --seeds=0,1,2
    python experiments/adaptation.py baselines     # -> experiments/results/adaptation_baselines.json
    python experiments/adaptation.py matching      # only the matching alone, added to that file
    python experiments/adaptation.py table         # the README table, from those files
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results"
BASELINES = RESULTS / "adaptation_baselines.json"
RUNS = ROOT / "runs"
# target -> the data fields that make it domain B of configs/unit.py
TARGETS = {
    "uci_digits": {"name_b": "uci_digits", "domain_b": "original"},
    "edges": {"name_b": "", "domain_b": "edges"},
    "negative": {"name_b": "", "domain_b": "negative"},
    "rotated": {"name_b": "", "domain_b": "rotated"},
    "thick": {"name_b": "", "domain_b": "thick"},
    "coloured": {"name_b": "", "domain_b": "coloured"},
}
# targets trained from a config of their own (the others: configs/unit.py)
CONFIGS = {
    "uci_digits": "configs/unit_semantic.py",
    "rotated": "configs/unit_rotated.py",
    "coloured": "configs/unit_coloured.py",
}
# targets whose config labels domain B by matching (data.match_b): the baselines add the matching alone
MATCHED = ("rotated",)
UCI_SUPERVISED = RUNS / "adapt_uci_supervised"
UCI_SUPERVISED_STEPS = 1000  # batch 64: 47 passes over the 1,347 labelled training images


def report_name(target: str, seed: int) -> str:
    return f"unit_{target}" if seed == 0 else f"unit_{target}_seed{seed}"


def data_flags(target: str) -> list[str]:
    return [f"--config.data.{field}={value}" for field, value in TARGETS[target].items()]


def main_module(*arguments: str) -> None:
    """python -m jaxgen.main with these arguments; stop with its status when it fails."""
    command = [sys.executable, "-m", "jaxgen.main", *arguments]
    print("$", " ".join(command[1:]), file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=ROOT, check=False)
    if done.returncode:
        sys.exit(done.returncode)


def run(targets: list[str], steps: int, seeds: list[int]) -> None:
    """Train (or resume) UNIT on each target and seed, evaluate it, keep its report."""
    for target in targets:
        for seed in seeds:
            name = report_name(target, seed)
            workdir = RUNS / name
            config = CONFIGS.get(target, "configs/unit.py")
            common = [f"--config={config}", f"--workdir={workdir}", *data_flags(target)]
            common += [f"--config.seed={seed}", f"--config.train.num_steps={steps}"]
            main_module(*common)
            main_module(*common, "--mode=eval")
            (RESULTS / "eval").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(workdir / "eval.json", RESULTS / "eval" / f"{name}.json")
            for picture in ("translations", "back_translations"):
                source = workdir / "samples" / f"{picture}_final.png"
                if source.exists() and seed == 0:
                    shutil.copyfile(source, RESULTS / "figures" / f"{name}_{picture}.png")


def target_test_split(target: str):
    """(uint8 test images [N, 32, 32, C], labels [N]) of the target domain, as UNIT's evaluation sees them."""
    from jaxgen.config import base_config
    from jaxgen.data import load_dataset

    config = base_config("classifier")
    if target == "uci_digits":
        config.data.name = "uci_digits"
    else:
        config.data.domain_a = target
    dataset = load_dataset(config.data)
    return dataset.test_images, dataset.test_labels


def matching_alone(target: str) -> dict:
    """The labels of data.match_b by themselves (configs/unit_rotated.py's matching): domain B's training
    images as UNIT's run labels them (A: the first half of MNIST train with its labels, B: the second half
    in the target domain), and each test image labelled as its nearest matched training image of B. B's
    labels are read here only to score."""
    import numpy as np

    from jaxgen.config import base_config
    from jaxgen.data import in_domain, load_dataset, matching

    data = base_config("unit", data={"name_b": "", "domain_b": target, "match_b": "gromov_wasserstein"}).data
    dataset = load_dataset(base_config("classifier").data)
    second = in_domain(dataset, target)
    half = len(dataset.train_images) // 2
    train_b = second.train_images[half:]
    both = np.concatenate([train_b, second.test_images])
    labels = matching.label_domain_b(
        data.match_b,
        dataset.train_images[:half],
        dataset.train_labels[:half],
        both,
        data.match_count,
        data.match_epsilon,
    )
    train_labels = second.train_labels[half:]
    return {
        "matched_count": data.match_count,
        "matched_images": float(np.mean(labels[: data.match_count] == train_labels[: data.match_count])),
        "train_images": float(np.mean(labels[: len(train_b)] == train_labels)),
        "test_nearest_matched": float(np.mean(labels[len(train_b) :] == second.test_labels)),
    }


def accuracy(classify, images, labels) -> float:
    import numpy as np

    return float(np.mean(np.argmax(np.asarray(classify(images)), -1) == labels))


def baselines() -> None:
    """Source-only and target-supervised accuracy on every target's test split."""
    import numpy as np

    import jaxgen
    from jaxgen import features

    if not (UCI_SUPERVISED / "config.json").exists() or not any(UCI_SUPERVISED.glob("checkpoints/*")):
        main_module(
            "--config=configs/feature_extractor.py",
            f"--workdir={UCI_SUPERVISED}",
            "--config.data.name=uci_digits",
            f"--config.train.num_steps={UCI_SUPERVISED_STEPS}",
        )
    source = features.load_extractor(domain="original")
    out = {"source_classifier": {"sha256": source.sha256, "test_accuracy": source.info["test_accuracy"]}}
    for target in TARGETS:
        images, labels = target_test_split(target)
        grey = images if images.shape[-1] == 1 else np.round(images.mean(-1, keepdims=True)).astype(np.uint8)
        row = {
            "test_images": int(len(labels)),
            "source_only": accuracy(lambda x: features.extract(source, x)[1], grey, labels),
        }
        if target == "uci_digits":
            supervised = jaxgen.load(UCI_SUPERVISED)
            row["target_supervised"] = accuracy(supervised.classify, images, labels)
            row["target_supervised_by"] = (
                f"configs/feature_extractor.py on the UCI digits, {UCI_SUPERVISED_STEPS} steps"
            )
        else:
            reader = features.load_extractor(domain=target)
            row["target_supervised"] = accuracy(lambda x, r=reader: features.extract(r, x)[1], images, labels)
            row["target_supervised_by"] = f"jaxgen/assets/{target}_classifier.npz"
        out[target] = row
        print(target, row, file=sys.stderr)
    BASELINES.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {BASELINES}", file=sys.stderr)
    matching()


def matching() -> None:
    """Add the matching alone to the baselines of the targets whose config matches (MATCHED)."""
    out = json.loads(BASELINES.read_text())
    for target in MATCHED:
        out[target]["matching_alone"] = matching_alone(target)
        print(target, out[target]["matching_alone"], file=sys.stderr)
    BASELINES.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {BASELINES}", file=sys.stderr)


def mean_std(values: list[float]) -> str:
    """A percentage, or mean ± sample std over seeds."""
    import statistics

    if len(values) == 1:
        return f"{values[0]:.2f}%"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}%"


def table() -> str:
    """One row per target: source-only; UNIT's latent classifier (the bar) and its B -> A translations read
    by the source classifier, mean ± std over the seeds found; the matching alone where the config matches;
    target-supervised."""
    import statistics

    base = json.loads(BASELINES.read_text())
    lines = [
        "| target (domain B) | config | UNIT steps | CPU wall time | seeds | source-only | "
        "UNIT: latent classifier, no target label | beats source-only | "
        "UNIT: B → A, then the source classifier | matching alone (`data.match_b`) | "
        "target-supervised (upper bound) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for target in TARGETS:
        reports = sorted((RESULTS / "eval").glob(f"unit_{target}.json")) + sorted(
            (RESULTS / "eval").glob(f"unit_{target}_seed*.json")
        )
        if not reports:
            continue
        loaded = [json.loads(path.read_text()) for path in reports]
        latent = [100 * r["model"]["test_b_accuracy"] for r in loaded]
        back = [100 * r["model"]["translation_ba_digit_preservation"] for r in loaded]
        walls = [r["source"]["train_wall_s"] for r in loaded if r["source"].get("train_wall_s")]
        row = base[target]
        cells = [
            target.replace("_", " "),
            f"`{CONFIGS.get(target, 'configs/unit.py').removeprefix('configs/')}`",
            "/".join(str(s) for s in sorted({r["source"]["step"] for r in loaded})),
            f"{statistics.mean(walls) / 60:.1f} min" if walls else "—",
            str(len(loaded)),
            f"{100 * row['source_only']:.2f}%",
            mean_std(latent),
            "yes" if min(latent) > 100 * row["source_only"] else "**no**",
            mean_std(back),
            f"{100 * row['matching_alone']['test_nearest_matched']:.2f}%" if "matching_alone" in row else "—",
            f"{100 * row['target_supervised']:.2f}%",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("run", "baselines", "matching", "table"))
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help="comma-separated, of " + ", ".join(TARGETS)
    )
    parser.add_argument("--steps", type=int, default=4000, help="UNIT training steps (configs/unit.py's)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    args = parser.parse_args()
    if args.what == "run":
        chosen = [t.strip() for t in args.targets.split(",") if t.strip()]
        unknown = sorted(set(chosen) - set(TARGETS))
        if unknown:
            parser.error(f"--targets: unknown {unknown}; choose from {list(TARGETS)}")
        run(chosen, args.steps, [int(s) for s in args.seeds.split(",")])
    elif args.what == "baselines":
        baselines()
    elif args.what == "matching":
        matching()
    else:
        print(table())
