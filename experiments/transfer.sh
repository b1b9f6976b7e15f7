#!/usr/bin/env bash
# Transfer learning from an MNIST classifier to a new digit task: three regimes (from scratch; linear
# probe: the source's conv body frozen, the head trained; fine-tuning: every layer starts from the source),
# at 10 labelled images per class and with every training label, seeds 0,1,2 (the seed also picks the 10 per
# class); 600 steps of batch 50 each. Targets (TARGET=...):
#   uci       the UCI digits (data.name=uci_digits) from the MNIST classifier (runs/classifier)
#   negative  MNIST negatives (data.domain_a=negative) from the MNIST classifier
#   upper     digits 5-9 from a classifier of digits 0-4 (runs/classifier_lower)
# FROM=ae or FROM=gan transfers unsupervised features instead (probe and fine-tuning only): the conv
# encoder of configs/ae.py or the discriminator of configs/gan.py (both the classifier's DCGAN down stack
# at width 64), trained SOURCE_STEPS steps on MNIST and read as the classifier's body
# (train.init_rename); regimes are then named probe_from_<FROM> and finetune_from_<FROM>.
# Reports: experiments/results/eval/transfer_<target>_<regime>_<labels>_seed<s>.json, read by
# experiments/transfer_table.py. A missing source is trained first.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-0,1,2}
STEPS=${STEPS:-600}
TARGET=${TARGET:-uci}
FROM=${FROM:-classifier}
SOURCE_STEPS=${SOURCE_STEPS:-2000}
case "$TARGET" in
  uci) SOURCE=runs/classifier; SOURCE_ARGS=(); TARGET_ARGS=(--config.data.name=uci_digits) ;;
  negative) SOURCE=runs/classifier; SOURCE_ARGS=(); TARGET_ARGS=(--config.data.domain_a=negative) ;;
  upper) SOURCE=runs/classifier_lower
    SOURCE_ARGS=(--config.data.classes=0,1,2,3,4 --config.train.num_steps=2340 --config.train.eval_every=468
      --config.train.checkpoint_every=468)  # 5 epochs of the 30,596 images of digits 0-4
    TARGET_ARGS=(--config.data.classes=5,6,7,8,9) ;;
  *) echo "TARGET=$TARGET: expected uci, negative or upper" >&2; exit 2 ;;
esac
SOURCE_CONFIG=configs/classifier.py RENAME="" REGIMES="scratch probe finetune" SUFFIX=""
case "$FROM" in
  classifier) ;;
  ae|gan) [ "$TARGET" = uci ] || { echo "FROM=$FROM: only TARGET=uci" >&2; exit 2; }
    SOURCE=runs/transfer_source_$FROM SOURCE_CONFIG=configs/$FROM.py REGIMES="probe finetune" SUFFIX=_from_$FROM
    SOURCE_ARGS=(--config.train.num_steps="$SOURCE_STEPS" --config.train.checkpoint_every="$SOURCE_STEPS"
      --config.train.eval_every="$SOURCE_STEPS")
    network=$([ "$FROM" = ae ] && echo enc || echo disc)
    RENAME="--config.train.init_rename=$network/DownStack_0=cls/DownStack_0" ;;
  *) echo "FROM=$FROM: expected classifier, ae or gan" >&2; exit 2 ;;
esac
[ -f "$SOURCE/final_metrics.json" ] ||
  python -m jaxgen.main --config="$SOURCE_CONFIG" --workdir="$SOURCE" "${SOURCE_ARGS[@]}"
declare -A REGIME=(
  [scratch]=""
  [probe]="--config.train.init_from=$SOURCE $RENAME --config.train.frozen=cls/DownStack_0"
  [finetune]="--config.train.init_from=$SOURCE $RENAME"
)
declare -A LABELS=([10]="--config.data.train_per_class=10" [all]="")
mkdir -p experiments/results/eval
for regime in $REGIMES; do
  for labels in 10 all; do
    for seed in ${SEEDS//,/ }; do
      name="transfer_${TARGET}_${regime}${SUFFIX}_${labels}"
      workdir="runs/${name}_seeds/seed_$seed"
      args=(--config=configs/classifier.py "${TARGET_ARGS[@]}" --config.seed="$seed"
        --config.data.subset_seed="$seed" --config.train.batch_size=50 --config.train.num_steps="$STEPS"
        --config.train.eval_every="$STEPS" --config.train.checkpoint_every="$STEPS" --config.train.log_every=50
        ${REGIME[$regime]} ${LABELS[$labels]})
      python -m jaxgen.main "${args[@]}" --workdir="$workdir"
      python -m jaxgen.main "${args[@]}" --workdir="$workdir" --mode=eval
      cp "$workdir/eval.json" "experiments/results/eval/${name}_seed$seed.json"
    done
  done
done
