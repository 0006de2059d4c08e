#!/usr/bin/env bash
# seed 002 Table 5 on MNIST-LT IF 100: the head trained on generated features only (target all)
# seeds 0-2: docs/results/issue-12/ldmlr/generated-only/
set -euo pipefail
out=docs/results/issue-12/ldmlr/generated-only
mkdir -p "$out"
for seed in 0 1 2; do
  python scripts/ldmlr_run.py mnist 100 "$seed" "$out/mnist-if100-seed$seed.json" --use generated \
    --methods ce,label-shift,ldmlr,label-shift+ldmlr
done
