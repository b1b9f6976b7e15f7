#!/usr/bin/env bash
# Train the single-seed GANs of issue 5 at the CPU protocol (width 32, the steps below, a sample grid every
# 500 steps for the progress GIF), score each with --mode=eval and draw its pictures with --mode=viz.
# GAN and WGAN-GP are measured over seeds instead: experiments/multiseed.sh.
# Results: runs/<name><suffix>/{eval.json,figures/,samples/progress.gif}; eval reports are copied to
# experiments/results/eval/<name><suffix>.json. Rerunning resumes or skips finished training.
# Usage: bash experiments/gan_family.sh [name ...]           (default: all below, in this order)
#        STEPS=8000 SUFFIX=_long bash experiments/gan_family.sh acgan infogan   (the longer runs)
#        EXTRA_ARGS="--config.model.began_gamma=0.7" SUFFIX=_gamma07 bash experiments/gan_family.sh began
# The README's 8000-step runs were resumed from copies of the 3000-step workdirs (cp -r runs/acgan
# runs/acgan_long); with a constant learning rate that is the same run as training 8000 steps at once.
set -euo pipefail
cd "$(dirname "$0")/.."
WIDTH=${WIDTH:-32}
SUFFIX=${SUFFIX:-}
declare -A DEFAULT_STEPS=([began]=3000 [ebgan]=3000 [cgan]=3000 [acgan]=3000 [infogan]=3000 [lsgan]=3000)
ORDER="began ebgan cgan acgan infogan lsgan"
mkdir -p experiments/results/eval
for name in ${@:-$ORDER}; do
  steps=${STEPS:-${DEFAULT_STEPS[$name]}}
  workdir="runs/$name$SUFFIX"
  args=(--config="configs/$name.py" --workdir="$workdir" --config.train.num_steps="$steps"
    --config.model.width="$WIDTH" --config.train.eval_every=500 ${EXTRA_ARGS:-})
  start=$(date +%s)
  python -m jaxgen.main "${args[@]}"
  trained=$(date +%s)
  python -m jaxgen.main "${args[@]}" --mode=eval
  python -m jaxgen.main "${args[@]}" --mode=viz
  echo "$name$SUFFIX: width $WIDTH, $steps steps, train $((trained - start)) s, eval + viz $(($(date +%s) - trained)) s" \
    | tee -a runs/timings.txt
  cp "$workdir/eval.json" "experiments/results/eval/$name$SUFFIX.json"
done
