#!/usr/bin/env bash
# Train the single-seed GANs of issue 5 at the CPU protocol (width 32, the steps below, a sample grid every
# 500 steps for the progress GIF), score each with --mode=eval and draw its pictures with --mode=viz.
# GAN and WGAN-GP are measured over seeds instead: experiments/multiseed.sh.
# Results: runs/<name>/{eval.json,figures/,samples/progress.gif}; eval reports are copied to
# experiments/results/eval/<name>.json. Rerunning skips finished training (the checkpoint is the latest).
# Usage: bash experiments/gan_family.sh [name ...]   (default: all below, in this order)
set -euo pipefail
cd "$(dirname "$0")/.."
WIDTH=${WIDTH:-32}
declare -A STEPS=([began]=3000 [ebgan]=3000 [cgan]=3000 [acgan]=3000 [infogan]=3000 [lsgan]=3000)
ORDER="began ebgan cgan acgan infogan lsgan"
mkdir -p experiments/results/eval
for name in ${@:-$ORDER}; do
  workdir="runs/$name"
  args=(--config="configs/$name.py" --workdir="$workdir" --config.train.num_steps="${STEPS[$name]}"
    --config.model.width="$WIDTH" --config.train.eval_every=500)
  start=$(date +%s)
  python -m jaxgen.main "${args[@]}"
  trained=$(date +%s)
  python -m jaxgen.main "${args[@]}" --mode=eval
  python -m jaxgen.main "${args[@]}" --mode=viz
  echo "$name: width $WIDTH, train $((trained - start)) s, eval + viz $(($(date +%s) - trained)) s" \
    | tee -a runs/timings.txt
  cp "$workdir/eval.json" "experiments/results/eval/$name.json"
done
