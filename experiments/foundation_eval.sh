#!/usr/bin/env bash
# Train the four foundation models (short runs where noted) and score them with --mode=eval.
# Results: runs/<name>/eval.json, copied to experiments/results/eval/<name>.json.
# Usage: bash experiments/foundation_eval.sh [name ...]   (default: classifier ae gan wgan)
# SUFFIX=_x writes runs/<name>_x and <name>_x.json instead (a re-measurement beside the recorded one).
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A STEPS=([classifier]=4685 [ae]=1500 [gan]=1500 [wgan]=1500)  # classifier: its full 5 epochs
mkdir -p experiments/results/eval
for name in "${@:-classifier ae gan wgan}"; do
  for model in $name; do
    workdir="runs/$model${SUFFIX:-}"
    python -m jaxgen.main --config="configs/$model.py" --workdir="$workdir" \
      --config.train.num_steps="${STEPS[$model]}"
    python -m jaxgen.main --config="configs/$model.py" --workdir="$workdir" --mode=eval \
      --config.train.num_steps="${STEPS[$model]}"
    cp "$workdir/eval.json" "experiments/results/eval/$model${SUFFIX:-}.json"
  done
done
