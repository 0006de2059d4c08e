#!/usr/bin/env bash
# Regenerates docs/benchmarks.md: STS-B-DIR with both text encoders and California Housing,
# vanilla vs LatentDiff (and the retrain-head control), 3 seeds each, on this machine.
# Data from LATENTDIFF_SHARED_DATA (default ../shared/data); outputs under OUT (default bench-out).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
DATA=${LATENTDIFF_SHARED_DATA:-../shared/data}
OUT=${OUT:-bench-out}
SEEDS=${SEEDS:-0,1,2}
METHODS=vanilla,retrain-head,latentdiff
latentdiff bench --dataset california-housing --data "$DATA/california-housing/california_housing.csv" \
  --methods $METHODS --seeds "$SEEDS" --out "$OUT/california-housing" --no-progress
latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm \
  --methods $METHODS --seeds "$SEEDS" --out "$OUT/stsb-dir-minilm" --no-progress
latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder bilstm-glove \
  --methods $METHODS --seeds "$SEEDS" --out "$OUT/stsb-dir-bilstm" --no-progress
# the BiLSTM with Table 7b's dropout 0.2 (before the max-pool): the vanilla network it gives
latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder bilstm-glove --encoder-option dropout=0.2 \
  --methods $METHODS --seeds "$SEEDS" --out "$OUT/stsb-dir-bilstm-dropout0.2" --no-progress
# generation-ratio sensitivity on California Housing (seed 000, Table 2b sweeps 20-90 %)
for r in 0.5 0.8; do
  latentdiff bench --dataset california-housing --data "$DATA/california-housing/california_housing.csv" \
    --methods vanilla,latentdiff --ratio $r --seeds "$SEEDS" --out "$OUT/california-housing-ratio$r" --no-progress
done
python -m latentdiff.report "$OUT/stsb-dir-bilstm" "$OUT/stsb-dir-bilstm-dropout0.2" \
  "$OUT/stsb-dir-minilm" "$OUT/california-housing" \
  "$OUT/california-housing-ratio0.5" "$OUT/california-housing-ratio0.8" \
  --notes docs/benchmarks-reading.md > docs/benchmarks.md
echo "wrote docs/benchmarks.md"
