#!/usr/bin/env bash
# Train every autoencoder / VAE config of issue 4 as it is (each config's steps are its CPU budget), score it
# with --mode=eval and draw its pictures with --mode=viz. Results: runs/<name>/{eval.json,figures/}; eval
# reports are copied to experiments/results/eval/<name>.json. Rerunning skips finished training.
# Usage: bash experiments/autoencoder_family.sh [name ...]   (default: all below, in this order)
#        VIZ=0 bash experiments/autoencoder_family.sh ...    (skip --mode=viz, the t-SNE pictures: ~2 min each)
# configs/vae_iwae.py (the likelihood run, ~1 h) is trained and scored separately: see experiments/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ORDER="ae_mlp ae_mlp_2d ae_linear ae_denoising ae_sparse ae_contractive ae_conv_linear vae vae_gaussian
  vae_conv vaegan ae_2d ae_fully_conv ae ae_l2"
mkdir -p experiments/results/eval
for name in ${@:-$ORDER}; do
  workdir="runs/$name"
  args=(--config="configs/$name.py" --workdir="$workdir")
  start=$(date +%s)
  python -m jaxgen.main "${args[@]}"
  trained=$(date +%s)
  python -m jaxgen.main "${args[@]}" --mode=eval
  if [[ "${VIZ:-1}" != 0 ]]; then python -m jaxgen.main "${args[@]}" --mode=viz; fi
  echo "$name: train $((trained - start)) s, eval + viz $(($(date +%s) - trained)) s" | tee -a runs/timings.txt
  cp "$workdir/eval.json" "experiments/results/eval/$name.json"
done
