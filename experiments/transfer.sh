#!/usr/bin/env bash
# Transfer learning from the MNIST classifier to the UCI digits (data.name=uci_digits): three regimes (from
# scratch; linear probe: the MNIST body frozen, a new head; fine-tuning: every layer from MNIST), at 10
# labelled images per class and with every training label (1347), seeds 0,1,2 (the seed also picks the 10
# per class). Reports: experiments/results/eval/transfer_uci_<regime>_<labels>_seed<s>.json, read by
# experiments/transfer_table.py. Pretraining: configs/classifier.py in runs/classifier (5 epochs) if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-0,1,2}
STEPS=${STEPS:-600}
SOURCE=${SOURCE:-runs/classifier}
[ -f "$SOURCE/final_metrics.json" ] || python -m jaxgen.main --config=configs/classifier.py --workdir="$SOURCE"
declare -A REGIME=(
  [scratch]=""
  [probe]="--config.train.init_from=$SOURCE --config.train.frozen=cls/DownStack_0"
  [finetune]="--config.train.init_from=$SOURCE"
)
declare -A LABELS=([10]="--config.data.train_per_class=10" [all]="")
mkdir -p experiments/results/eval
for regime in scratch probe finetune; do
  for labels in 10 all; do
    for seed in ${SEEDS//,/ }; do
      name="transfer_uci_${regime}_${labels}"
      workdir="runs/${name}_seeds/seed_$seed"
      args=(--config=configs/classifier.py --config.data.name=uci_digits --config.seed="$seed"
        --config.data.subset_seed="$seed" --config.train.batch_size=50 --config.train.num_steps="$STEPS"
        --config.train.eval_every="$STEPS" --config.train.checkpoint_every="$STEPS" --config.train.log_every=50
        ${REGIME[$regime]} ${LABELS[$labels]})
      python -m jaxgen.main "${args[@]}" --workdir="$workdir"
      python -m jaxgen.main "${args[@]}" --workdir="$workdir" --mode=eval
      cp "$workdir/eval.json" "experiments/results/eval/${name}_seed$seed.json"
    done
  done
done
