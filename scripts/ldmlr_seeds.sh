#!/usr/bin/env bash
# MNIST-LT at IF 100 and 10, seeds 0-2 (one data split, random_state 0; the seed varies the
# networks, the diffusion and the fine-tuning): docs/results/issue-12/ldmlr/mnist-if*-seed*.json
set -euo pipefail
out=docs/results/issue-12/ldmlr
mkdir -p "$out"
for imb in 100 10; do
  for seed in 0 1 2; do
    python scripts/ldmlr_run.py mnist "$imb" "$seed" "$out/mnist-if$imb-seed$seed.json"
  done
done
