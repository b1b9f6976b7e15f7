#!/usr/bin/env bash
# The adversarial autoencoders of issue 6 at the CPU protocol: trains, scores (--mode=eval) and draws
# (--mode=viz) each job; eval reports are copied to experiments/results/eval/<job>.json.
# Jobs:
#   style_ae, style_aae          the handwriting-style models, 12 epochs (the original's default)
#   aae_<prior>                  the 2-d AAE of configs/aae.py with each prior, AAE_STEPS steps
#   aae_labelled_<prior>         the same with the digit given to the discriminator (model.label_prior,
#                                paper section 2.3): mixture and swiss_roll
#   ssaae_<labels>               the semi-supervised AAE with 100 / 1000 labels, seeds SEEDS in one program
#                                (--seeds), SSAAE_STEPS steps; reports <job>_seed<s>.json
# Usage: bash experiments/aae_family.sh [job ...]    (default: all, in the order below)
# Rerunning resumes unfinished training.
set -euo pipefail
cd "$(dirname "$0")/.."
AAE_STEPS=${AAE_STEPS:-3000}
SSAAE_STEPS=${SSAAE_STEPS:-6000}
SEEDS=${SEEDS:-0,1,2}
ORDER="style_aae style_ae ssaae_100 ssaae_1000 aae_gaussian aae_mixture aae_triangle aae_donut aae_swiss_roll
aae_labelled_mixture aae_labelled_swiss_roll"
mkdir -p experiments/results/eval

run_one() {  # name, workdir, extra args...
  local name=$1 workdir=$2
  shift 2
  local start trained
  start=$(date +%s)
  python -m jaxgen.main --workdir="$workdir" "$@"
  trained=$(date +%s)
  python -m jaxgen.main --workdir="$workdir" "$@" --mode=eval
  python -m jaxgen.main --workdir="$workdir" "$@" --mode=viz
  echo "$name: train $((trained - start)) s, eval + viz $(($(date +%s) - trained)) s" | tee -a runs/timings.txt
  cp "$workdir/eval.json" "experiments/results/eval/$name.json"
}

for job in ${@:-$ORDER}; do
  case $job in
    style_aae | style_ae)
      run_one "$job" "runs/$job" --config="configs/$job.py" ;;
    aae_labelled_*)
      run_one "$job" "runs/$job" --config=configs/aae.py --config.model.prior="${job#aae_labelled_}" \
        --config.model.label_prior=True --config.train.num_steps="$AAE_STEPS" ;;
    aae_*)
      run_one "$job" "runs/$job" --config=configs/aae.py --config.model.prior="${job#aae_}" \
        --config.train.num_steps="$AAE_STEPS" ;;
    ssaae_*)
      labels=${job#ssaae_}
      args=(--config=configs/ssaae.py --config.data.num_labels="$labels" --config.train.num_steps="$SSAAE_STEPS")
      start=$(date +%s)
      python -m jaxgen.main "${args[@]}" --workdir="runs/$job" --seeds="$SEEDS"
      trained=$(date +%s)
      for seed in ${SEEDS//,/ }; do
        workdir="runs/$job/seed_$seed"
        python -m jaxgen.main "${args[@]}" --workdir="$workdir" --config.seed="$seed" --mode=eval
        cp "$workdir/eval.json" "experiments/results/eval/${job}_seed$seed.json"
      done
      python -m jaxgen.main "${args[@]}" --workdir="runs/$job/seed_0" --config.seed=0 --mode=viz
      echo "$job seeds $SEEDS: $SSAAE_STEPS steps, train $((trained - start)) s, eval + viz $(($(date +%s) - trained)) s" \
        | tee -a runs/timings.txt ;;
    *) echo "unknown job $job" >&2; exit 2 ;;
  esac
done
