#!/usr/bin/env bash
# Time-to-quality cards on a GPU host (README "wall time on a GPU"): train each named config at its defaults
# exactly as the README says, score it with --mode=eval and record the wall times (train: start-up, data,
# compilation and every periodic sample grid included).
# Results: $GPU_RUNS/<name>/eval.json (default runs/gpu); one line per config in $GPU_RUNS/timings.txt.
# Usage: [PYTHON=python3] [EXTRA_ARGS="--config.x=y"] bash experiments/gpu_cards.sh gan wgan_gp
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
root=${GPU_RUNS:-runs/gpu}
mkdir -p "$root"
device=$("$py" -c "import jax; print(jax.devices()[0].device_kind)")
for name in "$@"; do
  args=(--config="configs/$name.py" --workdir="$root/$name" ${EXTRA_ARGS:-})
  start=$(date +%s)
  "$py" -m jaxgen.main "${args[@]}"
  trained=$(date +%s)
  "$py" -m jaxgen.main "${args[@]}" --mode=eval
  echo "$name on $device: train $((trained - start)) s, eval $(($(date +%s) - trained)) s" | tee -a "$root/timings.txt"
done
