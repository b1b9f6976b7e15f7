#!/usr/bin/env bash
# Several seeds of one config in one compiled program (--seeds: jax.vmap over seeds), then --mode=eval of
# each seed's workdir; the reports go to experiments/results/eval/<name>_seed<s>.json and
# experiments/gan_table.py prints mean +- std. CPU protocol: width 32, the steps below.
# Usage: bash experiments/multiseed.sh [name ...]   (default: gan wgan_gp)
#        SEPARATE=1 bash experiments/multiseed.sh infogan  (each seed its own run, same workdirs: on the CPU
#        one run after the other is faster than the vmapped program for the larger models)
#        SEPARATE=1 EXTRA_ARGS="--config.model.arch=paper" SUFFIX=_paper bash experiments/multiseed.sh infogan
#        (extra config flags; the workdirs and reports carry the suffix: infogan_paper_seed<s>.json)
#        SEPARATE=1 bash experiments/multiseed.sh classifier vae   (a name with no steps below trains its
#        config unchanged, the README's command with --config.seed: the default's time-to-quality card)
set -euo pipefail
cd "$(dirname "$0")/.."
WIDTH=${WIDTH:-32}
SEEDS=${SEEDS:-0,1,2}
declare -A STEPS=([gan]=2000 [wgan_gp]=500 [infogan]=5000)
mkdir -p experiments/results/eval
SUFFIX=${SUFFIX:-}
for name in ${@:-gan wgan_gp}; do
  workdir="runs/${name}${SUFFIX}_seeds"
  args=(--config="configs/$name.py" ${EXTRA_ARGS:-})
  if [[ -n "${STEPS[$name]:-}" ]]; then
    args+=(--config.train.num_steps="${STEPS[$name]}" --config.model.width="$WIDTH")
  fi
  start=$(date +%s)
  if [[ -n "${SEPARATE:-}" ]]; then
    for seed in ${SEEDS//,/ }; do
      python -m jaxgen.main "${args[@]}" --workdir="$workdir/seed_$seed" --config.seed="$seed"
    done
  else
    python -m jaxgen.main "${args[@]}" --workdir="$workdir" --seeds="$SEEDS"
  fi
  trained=$(date +%s)
  for seed in ${SEEDS//,/ }; do
    python -m jaxgen.main "${args[@]}" --workdir="$workdir/seed_$seed" --config.seed="$seed" --mode=eval
    cp "$workdir/seed_$seed/eval.json" "experiments/results/eval/${name}${SUFFIX}_seed$seed.json"
  done
  echo "$name$SUFFIX seeds $SEEDS: ${STEPS[$name]:+width $WIDTH, }train $((trained - start)) s, eval $(($(date +%s) - trained)) s" \
    | tee -a runs/timings.txt
done
