#!/usr/bin/env bash
# Issue 13, point 3: zero-shot labels (seed 004, sec. 4.2, Table 6). Curated label ranges whose
# training and validation rows are removed (--zero-shot; src/latentdiff/zeroshot.py), one gap
# inside the training range (interp) and one range beyond it (extrap); their test rows are
# scored as regions zero-shot-interp / zero-shot-extrap. vanilla, LDS, FDS, LatentDiff (empty
# generation bins skipped, the default), latentdiff-fill (empty bins inside the label range
# generated, --empty-bins interp) and latentdiff-tuned in one run, 3 seeds, one thread.
# Result files: docs/results/issue-13/zero-shot/<dataset>/; the summary table:
# python scripts/issue13_zero_shot_table.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  . scripts/bench-env.sh  # set-up, .venv, DATA and OUT
else  # an active environment (a worktree using another checkout's .venv)
  DATA=${LATENTDIFF_SHARED_DATA:-../shared/data}
  OUT=${OUT:-bench-out}
fi
export OMP_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
DATASETS=${DATASETS:-california-housing diamonds}
METHODS=vanilla,lds,fds,latentdiff,latentdiff-fill,latentdiff-tuned
RUNS="$OUT/issue13-zero-shot"
RES=docs/results/issue-13/zero-shot
mkdir -p "$RUNS" "$RES"
for ds in $DATASETS; do
  case $ds in
    # MedHouseVal 0.15-5.0: a gap between the body and the tail, and the top (the 5.0 cap in it)
    california-housing) args=(--data "$DATA/california-housing/california_housing.csv")
                        spec="interp=2.4:3.1,extrap=4.2:" ;;
    # price 326-18,823 USD: a gap in the middle, and the most expensive stones
    diamonds) args=(); spec="interp=6000:8000,extrap=14000:" ;;
    *) echo "no zero-shot ranges for $ds" >&2; exit 2 ;;
  esac
  latentdiff bench --dataset "$ds" "${args[@]}" --zero-shot "$spec" --methods "$METHODS" \
    --seeds "$SEEDS" --analysis-rows 0 --no-progress --overwrite --out "$RUNS/$ds" \
    > "$RUNS/$ds.log" 2>&1 || echo "$ds failed (see $RUNS/$ds.log)"
  mkdir -p "$RES/$ds"
  cp "$RUNS/$ds"/{config.json,results.json,results.md,runs.json} "$RES/$ds/"
done
python scripts/issue13_zero_shot_table.py "$RES" --from-runs "$RUNS" > "$RES/summary.md"
cat "$RES/summary.md"
