#!/usr/bin/env bash
# The spatial transformer paper's distorted-MNIST models, each seed its own run, then --mode=eval; reports go
# to experiments/results/eval/<name>_seed<s>.json for experiments/classifier_table.py (`<name>:0,1,2`). The
# rectified digits of an ST model are in <workdir>/samples (experiments/rectified_progress.py).
# Usage: bash experiments/distorted_mnist.sh                        (the RTS pair, seeds 1,2)
#        SEEDS=0,1,2 RUNS="fcn_r st_fcn_r" bash experiments/distorted_mnist.sh
#        SUFFIX=_long EXTRA_ARGS="--config.train.num_steps=28110" SEEDS=0 bash experiments/distorted_mnist.sh
#        (EXTRA_ARGS: config overrides for every run; SUFFIX: appended to the workdir's and report's name)
# The RTS pair's configs train 20 epochs (issue 16); their reports are <name>_20ep_seed<s>.json (the suffix
# is _20ep unless SUFFIX is given), the 10-epoch runs' keep <name>_seed<s>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-1,2}
if [[ -z "${RUNS:-}" ]]; then
  RUNS="st_cnn_rts cnn_rts"
  SUFFIX=${SUFFIX-_20ep}
fi
mkdir -p experiments/results/eval
for seed in ${SEEDS//,/ }; do
  for name in $RUNS; do
    run="$name${SUFFIX:-}"
    workdir="runs/${run}_seeds/seed_$seed"
    # shellcheck disable=SC2206  # EXTRA_ARGS is a list of words on purpose
    args=(--config="configs/$name.py" --workdir="$workdir" --config.seed="$seed" ${EXTRA_ARGS:-})
    start=$(date +%s)
    python -m jaxgen.main "${args[@]}"
    trained=$(date +%s)
    python -m jaxgen.main "${args[@]}" --mode=eval
    cp "$workdir/eval.json" "experiments/results/eval/${run}_seed$seed.json"
    echo "$run seed $seed: train $((trained - start)) s, eval $(($(date +%s) - trained)) s, load $(cut -d' ' -f1-3 /proc/loadavg)" \
      | tee -a runs/timings.txt
  done
done
