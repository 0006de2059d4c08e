#!/usr/bin/env bash
# Issue 12, part 2: PoGDiff (seed 003) in feature space against plain LatentDiff, same run, 3
# seeds, one thread: `latentdiff bench --methods vanilla,latentdiff,pogdiff` on California
# Housing. Result files: docs/results/issue-12/pogdiff/california-housing/. Later: STS-B-DIR
# (MiniLM), diamonds, per-bin Frechet distance, the Table 5 ablation (--pogdiff-option
# similarity_term=false / density_term=false).
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
RUNS="$OUT/issue12-pogdiff"
RES=docs/results/issue-12/pogdiff
mkdir -p "$RUNS" "$RES"
bench() { name=$1; shift; latentdiff bench --methods vanilla,latentdiff,pogdiff --seeds "$SEEDS" \
  --no-progress --overwrite --out "$RUNS/$name" "$@" > "$RUNS/$name.log" 2>&1 || echo "$name failed"; }
bench california-housing --dataset california-housing \
  --data "$DATA/california-housing/california_housing.csv"
for run in california-housing; do
  mkdir -p "$RES/$run"
  cp "$RUNS/$run"/{config.json,results.json,results.md,runs.json} "$RES/$run/"
done
cat "$RES/california-housing/results.md"
