"""Print the bounds' precision check: each VAE's `--mode=eval` with the products in float32 (the default)
and on bfloat16 operands (`--config.eval.likelihood_dtype=bfloat16`), the same model, images and draws,
from experiments/results/likelihood_precision/<name>_<dtype>.json (the eval reports as written).

    python experiments/likelihood_precision_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "likelihood_precision"

ROWS = [  # (report name, what the model is)
    ("vae", "`configs/vae.py` (2-d codes)"),
    ("vae_iwae_6000_steps", "`configs/vae_iwae.py` at 6000 steps (50-d, 500-500)"),
    ("vae_gaussian_seed0", "`configs/vae_gaussian.py` seed 0 (grey-level density)"),
]
DTYPES = ("float32", "bfloat16")


def cell(report: dict) -> str:
    """Whole eval time; the test NLL (IWAE bound) and ELBO in nats."""
    model = report["model"]
    return f"{report['seconds']:.1f} s; NLL {model['nll_iwae']:.4f}, ELBO {model['elbo']:.4f}"


def main() -> None:
    print("| `--mode=eval`, whole report | images | float32 (default) | bfloat16 products | NLL moved by |")
    print("|---|---|---|---|---|")
    for name, label in ROWS:
        reports = [json.loads((RESULTS / f"{name}_{dtype}.json").read_text()) for dtype in DTYPES]
        for report, dtype in zip(reports, DTYPES, strict=True):
            assert report["model"]["likelihood_dtype"] == dtype, f"{name}_{dtype}.json: another precision"
        images = {r["model"]["likelihood_images"] for r in reports}
        assert len(images) == 1, f"{name}: the two reports scored different images"
        moved = reports[1]["model"]["nll_iwae"] - reports[0]["model"]["nll_iwae"]
        print(f"| {label} | {images.pop()} | {cell(reports[0])} | {cell(reports[1])} | {moved:+.4f} nats |")


if __name__ == "__main__":
    main()
