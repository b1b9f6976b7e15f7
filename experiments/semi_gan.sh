#!/usr/bin/env bash
# Semi-supervised GANs against the same network trained on the labelled images alone, each seed its own run
# (on the CPU one run after another is as fast as the vmapped program), then --mode=eval of each; reports go
# to experiments/results/eval/<name>_seed<s>.json for experiments/classifier_table.py.
# Usage: bash experiments/semi_gan.sh                 (fm_gan and its supervised baseline, seeds 0,1,2)
#        SEEDS=0 RUNS="sgan fm_gan_1000" bash experiments/semi_gan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-0,1,2}
declare -A ARGS=(
  [fm_gan]="--config=configs/fm_gan.py"
  [fm_gan_supervised]="--config=configs/fm_gan.py --config.model.supervised_only=True"
  [fm_gan_1000]="--config=configs/fm_gan.py --config.data.num_labels=1000"
  [fm_gan_1000_supervised]="--config=configs/fm_gan.py --config.data.num_labels=1000 --config.model.supervised_only=True"
  [sgan]="--config=configs/sgan.py"
)
mkdir -p experiments/results/eval
for name in ${RUNS:-fm_gan fm_gan_supervised}; do
  for seed in ${SEEDS//,/ }; do
    workdir="runs/${name}_seeds/seed_$seed"
    start=$(date +%s)
    python -m jaxgen.main ${ARGS[$name]} --workdir="$workdir" --config.seed="$seed"
    trained=$(date +%s)
    python -m jaxgen.main ${ARGS[$name]} --workdir="$workdir" --config.seed="$seed" --mode=eval
    cp "$workdir/eval.json" "experiments/results/eval/${name}_seed$seed.json"
    echo "$name seed $seed: train $((trained - start)) s, eval $(($(date +%s) - trained)) s" | tee -a runs/timings.txt
  done
done
