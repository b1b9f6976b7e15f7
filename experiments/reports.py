"""Which evaluation reports a result spec names, for every table script: 'name' is
experiments/results/eval/name.json; 'name:0,1,2' is one report per seed, name_seed<s>.json, where seed 0
may be name.json (a one-seed run that later seeds joined, or experiments/adaptation.py's naming)."""

from __future__ import annotations

import json
from pathlib import Path

EVAL = Path(__file__).resolve().parent / "results" / "eval"


def seed_report(name: str, seed: int) -> Path:
    path = EVAL / f"{name}_seed{seed}.json"
    return EVAL / f"{name}.json" if seed == 0 and not path.exists() else path


def load_reports(spec: str) -> tuple[str, str, list[dict]]:
    """(name, the seeds as written ('' for none), the reports in the spec's order)."""
    name, _, seeds = spec.partition(":")
    paths = [seed_report(name, int(s)) for s in seeds.split(",")] if seeds else [EVAL / f"{name}.json"]
    return name, seeds, [json.loads(path.read_text()) for path in paths]
