#!/usr/bin/env bash
# The benchmark on a GPU host (issue 18): every model, jaxgen fp32 and mixed precision against PyTorch CUDA
# fp32 and bf16 autocast, interleaved, 2 rounds of 6 compiled calls (50 steps each, the trainer's GPU default)
# per side, PyTorch timed over 60 steps; the GPU's name, driver and clocks first. Meant to take under 5
# minutes: on an H200 the run that timed PyTorch over 300 steps took over 5, and 60 should leave about 4
# (an estimate from its step times; not yet run again).
# Needs: this repository's packages on the host's Python (jax with CUDA, flax, optax, orbax, ml-collections)
# and a CUDA build of PyTorch.
# Usage: [PYTHON=python3] bash experiments/benchmark_gpu.sh [out.json]   (default experiments/results/benchmark_gpu.json)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-experiments/results/benchmark_gpu.json}
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1  # PyTorch's workers share the GPU
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit --format=csv
"${PYTHON:-python3}" experiments/benchmark.py --bf16 --rounds 2 --steps 6 --torch-steps 60 \
  --models gan classifier vae ae_mlp aae wgan ae style_aae --out "$out"
