#!/usr/bin/env bash
# Issue 11, point 2: the generators side by side in ONE run per data set, everything else equal:
# vanilla, latentdiff (the diffusion model), latentdiff-gaussian and latentdiff-interp, 3 seeds,
# on California Housing and diamonds, one CPU thread per process, the two data sets as two
# streams side by side. Result files go to docs/results/issue-11/generators/, with summary.md
# (error ratios against vanilla and stage seconds, scripts/issue11_generators.py).
#
#   bash scripts/issue11-generators.sh                 # sets up .venv (scripts/bench-env.sh)
#   LATENTDIFF_NO_SETUP=1 bash scripts/issue11-generators.sh   # in an already active environment
#
# Re-runnable as is: each run directory is replaced (--overwrite), and the diffusion model runs
# with whatever DiffusionConfig's defaults are at the time.
if [ -z "${LATENTDIFF_NO_SETUP:-}" ]; then
  . "$(dirname "$0")/bench-env.sh"
else
  set -euo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  DATA=${LATENTDIFF_SHARED_DATA:-../shared/data}
  OUT=${OUT:-bench-out}
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
METHODS=vanilla,latentdiff,latentdiff-gaussian,latentdiff-interp
RUNS="$OUT/issue11-generators"
RES=docs/results/issue-11/generators
mkdir -p "$RUNS" "$RES"
latentdiff bench --dataset california-housing --data "$DATA/california-housing/california_housing.csv" \
  --methods "$METHODS" --seeds "$SEEDS" --out "$RUNS/california-housing" --no-progress --overwrite \
  > "$RUNS/california-housing.log" 2>&1 &
cal=$!
latentdiff bench --dataset diamonds --methods "$METHODS" --seeds "$SEEDS" \
  --out "$RUNS/diamonds" --no-progress --overwrite > "$RUNS/diamonds.log" 2>&1 &
dia=$!
wait "$cal" "$dia"
for ds in california-housing diamonds; do
  mkdir -p "$RES/$ds"
  cp "$RUNS/$ds"/{config.json,results.json,results.md,runs.json} "$RES/$ds"/
done
python scripts/issue11_generators.py "$RES/california-housing" "$RES/diamonds" > "$RES/summary.md"
cat "$RES/summary.md"
