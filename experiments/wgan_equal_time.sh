#!/usr/bin/env bash
# WGAN (weight clipping, the reference critic schedule) against WGAN-GP at the same training wall time
# (issue 19's bar: FID-MNIST of WGAN <= 1.5x WGAN-GP's). WGAN-GP trains GP_STEPS steps; its wall time (the
# `wall_s` of its metrics.jsonl) is the budget. WGAN then trains a first piece, its measured time per step
# sets the steps that fill the budget, and it resumes to them (one resume: the second compilation counts
# against WGAN's time). Both at width 32, on the same machine under the same load; eval reports go to
# experiments/results/eval/{wgan_gp,wgan}_equal_time$TAG.json with the wall times in source.train_wall_s,
# WGAN's samples to results/figures/wgan_equal_time${TAG}_samples.png and both metrics to results/.
# Usage: bash experiments/wgan_equal_time.sh      (GP_STEPS=2000 FIRST=500 TAG= by default)
#        SEED=1 TAG=_ref bash experiments/wgan_equal_time.sh   (both trained from --config.seed=1; the names
#        get _seed1 after the tag: wgan_equal_time_ref_seed1.json, as multiseed.sh names its seeds)
set -euo pipefail
cd "$(dirname "$0")/.."
GP_STEPS=${GP_STEPS:-2000}
FIRST=${FIRST:-500}
TAG=${TAG:-}  # appended to the workdirs' and the results' names, so that a rerun keeps the earlier ones
common=(--config.model.width=32 --config.train.eval_every=500)
if [[ -n "${SEED:-}" ]]; then
  TAG="${TAG}_seed$SEED"
  common+=(--config.seed="$SEED")
fi
# wall_s of the train record at step $2 (default: the last one)
wall_at() { python -c "import json,sys; r={d['step']: d['wall_s'] for d in map(json.loads, open(sys.argv[1]))
  if d['kind'] == 'train'}; print(r[int(sys.argv[2])] if len(sys.argv) > 2 else r[max(r)])" "$1/metrics.jsonl" ${2:-}; }

gp=runs/wgan_gp_equal_time$TAG
python -m jaxgen.main --config=configs/wgan_gp.py --workdir=$gp --config.train.num_steps="$GP_STEPS" "${common[@]}"
budget=$(wall_at $gp)

wgan=runs/wgan_equal_time$TAG
python -m jaxgen.main --config=configs/wgan.py --workdir=$wgan --config.train.num_steps="$FIRST" "${common[@]}"
spent=$(wall_at $wgan)
# the rate after the first 100 steps: the 25 boosted steps at the start (100 critic updates each) would
# otherwise make every later step look five times slower than it is
rate=$(python -c "print(($FIRST - 100) / ($spent - $(wall_at $wgan 100)))")
steps=$(python -c "print(max($FIRST, int($FIRST + ($budget - $spent) * $rate)))")
echo "WGAN-GP: $GP_STEPS steps in $budget s; WGAN: $FIRST steps in $spent s, so $steps steps"
python -m jaxgen.main --config=configs/wgan.py --workdir=$wgan --config.train.num_steps="$steps" "${common[@]}"

for pair in "wgan_gp:$gp:$GP_STEPS" "wgan:$wgan:$steps"; do
  IFS=: read -r name workdir n <<< "$pair"
  python -m jaxgen.main --config="configs/$name.py" --workdir="$workdir" --config.train.num_steps="$n" \
    "${common[@]}" --mode=eval
  python -m jaxgen.main --config="configs/$name.py" --workdir="$workdir" --config.train.num_steps="$n" \
    "${common[@]}" --mode=viz
  cp "$workdir/eval.json" "experiments/results/eval/${name}_equal_time$TAG.json"
  cp "$workdir/metrics.jsonl" "experiments/results/${name}_equal_time${TAG}_metrics.jsonl"
done
cp "$wgan/samples/samples_final.png" "experiments/results/figures/wgan_equal_time${TAG}_samples.png"
echo "wgan vs wgan_gp at equal wall time: GP $GP_STEPS steps $budget s, WGAN $steps steps $(wall_at $wgan) s" \
  | tee -a runs/timings.txt
