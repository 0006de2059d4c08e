#!/usr/bin/env bash
# seed 002 Table 4 on MNIST-LT IF 100: generation targeted at many / medium / few classes
# (target all is scripts/ldmlr_seeds.sh), seeds 0-2: docs/results/issue-12/ldmlr/targets/
set -euo pipefail
out=docs/results/issue-12/ldmlr/targets
mkdir -p "$out"
for target in ${TARGETS:-few medium many}; do
  for seed in 0 1 2; do
    python scripts/ldmlr_run.py mnist 100 "$seed" "$out/mnist-if100-$target-seed$seed.json" \
      --target "$target"
  done
done
