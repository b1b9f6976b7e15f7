"""Print the mixed-precision quality check: each model's figure trained in float32 and in mixed precision
(bf16 conv operands, float32 accumulation), mean ± sample std over seeds, from experiments/results.

    python experiments/precision_table.py
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# (model, figure, how to read it from a precision report, report paths per precision: float32, mixed; how to
# read it from an --mode=eval report, the eval reports of the later mixed-precision code, one column each
# (EVAL_COLUMNS); each column's training time: three seeds in one vmapped program)
EVAL_COLUMNS = (
    "mixed, columns cast first (2026-12-07)",  # cast to bf16 before their layout, cotangent summed in float32
    "mixed, 4×4 windows joined on rows and columns (2026-12-07, AMD EPYC)",  # layers.k4s2_columns
)
ROWS = [
    ("DCGAN `configs/gan.py` (width 32, 2000 steps: `multiseed.sh`)", "FID-MNIST",
     lambda r: r["samples"]["fid"],
     [f"eval/gan_fp32_seed{s}.json" for s in range(3)], [f"eval/gan_bf16_seed{s}.json" for s in range(3)],
     lambda r: r["samples"]["fid"],
     [[f"eval/gan_bf16_layout_seed{s}.json" for s in range(3)],
      [f"eval/gan_bf16_windows_seed{s}.json" for s in range(3)]],
     ["precision/gan_float32_train.json", "precision/gan_bfloat16_train.json",
      "eval/gan_bf16_layout_seed0.json", "eval/gan_bf16_windows_seed0.json"]),
    ("classifier `configs/classifier.py` (4685 steps)", "test accuracy %", lambda r: 100 * r["test_accuracy"],
     [f"precision/classifier_float32_seed{s}.json" for s in range(3)],
     [f"precision/classifier_bfloat16_seed{s}.json" for s in range(3)],
     lambda r: 100 * r["model"]["test_accuracy"],
     [[f"eval/classifier_bf16_layout_seed{s}.json" for s in range(3)],
      [f"eval/classifier_bf16_windows_seed{s}.json" for s in range(3)]],
     ["precision/classifier_float32_seed0.json", "precision/classifier_bfloat16_seed0.json",
      "eval/classifier_bf16_layout_seed0.json", "eval/classifier_bf16_windows_seed0.json"]),
]  # fmt: skip


def cell(paths: list[str], read) -> str:
    """mean ± std (n seeds) of the figure over the reports that exist; '—' when none does."""
    values = [read(json.loads((RESULTS / p).read_text())) for p in paths if (RESULTS / p).exists()]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.2f} (one seed)"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f} ({len(values)} seeds)"


def wall_time(path: str) -> str:
    """The training loop's seconds for the three seeds, or 'not recorded' (runs from before issue 19)."""
    if not (RESULTS / path).exists():
        return "not recorded"
    report = json.loads((RESULTS / path).read_text())
    seconds = report["wall_s"] if "wall_s" in report else report["source"]["train_wall_s"]  # an eval report
    return f"{seconds:.0f} s"


def main() -> None:
    later = " | ".join(EVAL_COLUMNS)
    print(f"| model | figure | float32 | mixed (bf16 convs) | {later} | training, 3 seeds: each column |")
    print("|---|---|---|---|" + "---|" * len(EVAL_COLUMNS) + "---|")
    for model, figure, read, float32, mixed, read_eval, mixed_later, times in ROWS:
        timing = " / ".join(wall_time(path) for path in times)
        cells = [cell(float32, read), cell(mixed, read), *(cell(paths, read_eval) for paths in mixed_later)]
        print(f"| {model} | {figure} | {' | '.join(cells)} | {timing} |")


if __name__ == "__main__":
    main()
