#!/usr/bin/env bash
# Regenerates docs/benchmarks.md: the Table 1 grid (every method and combination) on California
# Housing and STS-B-DIR (MiniLM), then STS-B-DIR with both text encoders and California Housing,
# vanilla vs LatentDiff (and the retrain-head control) in detail, 3 seeds each, on this machine.
# The two grids run side by side, one CPU thread each.
# Data from LATENTDIFF_SHARED_DATA (default ../shared/data); outputs under OUT (default bench-out);
# both set by scripts/bench-env.sh. Each run's config.json, results.json, results.md and runs.json
# are copied into docs/results/benchmarks/RUN/ (commit them: small files, no checkpoints) and the
# document is written from those copies, so tests/test_doc_results.py regenerates it byte for
# byte from committed files (the run names: scripts/doc_results.py, BENCH_GRIDS / BENCH_DETAILS).
. "$(dirname "$0")/bench-env.sh"
SEEDS=${SEEDS:-0,1,2}
METHODS=vanilla,retrain-head,latentdiff
mkdir -p "$OUT"
OMP_NUM_THREADS=1 latentdiff bench --grid table1 --dataset california-housing \
  --data "$DATA/california-housing/california_housing.csv" --seeds "$SEEDS" \
  --out "$OUT/table1-california-housing" --no-progress > "$OUT/table1-california-housing.log" 2>&1 &
p1=$!
OMP_NUM_THREADS=1 latentdiff bench --grid table1 --dataset stsb-dir --data "$DATA/stsb-dir" \
  --encoder minilm --seeds "$SEEDS" --out "$OUT/table1-stsb-dir-minilm" --no-progress \
  > "$OUT/table1-stsb-dir-minilm.log" 2>&1 &
p2=$!
wait $p1  # either failing stops the script (set -e); its log says why
wait $p2
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
RES=docs/results/benchmarks
for run in table1-california-housing table1-stsb-dir-minilm stsb-dir-bilstm \
  stsb-dir-bilstm-dropout0.2 stsb-dir-minilm california-housing california-housing-ratio0.5 \
  california-housing-ratio0.8; do
  mkdir -p "$RES/$run"
  cp "$OUT/$run"/{config.json,results.json,results.md,runs.json} "$RES/$run/"
done
latentdiff report --grid "$RES/table1-california-housing" --grid "$RES/table1-stsb-dir-minilm" \
  "$RES/stsb-dir-bilstm" "$RES/stsb-dir-bilstm-dropout0.2" \
  "$RES/stsb-dir-minilm" "$RES/california-housing" \
  "$RES/california-housing-ratio0.5" "$RES/california-housing-ratio0.8" \
  --notes docs/benchmarks-reading.md --output docs/benchmarks.md
echo "wrote docs/benchmarks.md"
python scripts/issue10_section.py  # issue 10's section (its own runs: scripts/issue10-benchmarks.sh)
python scripts/issue11_section.py  # issue 11's section (its own runs: scripts/issue11-benchmarks.sh, issue11-samplers.sh)
python scripts/issue12_section.py  # issue 12's section (its own runs: scripts/ldmlr_sweep.py, issue12-pogdiff*.sh)
python scripts/issue13_section.py  # issue 13's section (its own runs: scripts/issue13-{ablations,zero-shot,baselines,analysis}.sh)
python scripts/doc_results.py  # every generated file and the document against the committed files
