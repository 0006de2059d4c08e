#!/usr/bin/env bash
# Issue 13, point 2: seed 000's Table 2 ablations as one command, `latentdiff bench --grid
# table2` (the methods: latentdiff.methods.variants.TABLE2), 3 seeds, one thread, on California
# Housing, then STS-B-DIR (MiniLM). Every variant shares its seed's stage-1 network; the paired
# differences against the full model (`latentdiff`) are in summary.md, made from the committed
# files by scripts/issue13_ablations.py. Result files (no checkpoints; --analysis-rows 0):
# docs/results/issue-13/ablations/<dataset>/.
# With a virtual environment already active (VIRTUAL_ENV), the project's set-up is not re-run.
if [ -z "${VIRTUAL_ENV:-}" ]; then
  . "$(dirname "$0")/bench-env.sh"
else
  set -euo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  DATA=${LATENTDIFF_SHARED_DATA:-../shared/data}
  OUT=${OUT:-bench-out}
fi
export OMP_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
ONLY=${ONLY:-california-housing stsb-dir-minilm}
RUNS="$OUT/issue13-ablations"
RES=docs/results/issue-13/ablations
mkdir -p "$RUNS" "$RES"
bench() {
  name=$1; shift
  case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
  latentdiff bench --grid table2 --seeds "$SEEDS" --analysis-rows 0 --no-progress --overwrite \
    --out "$RUNS/$name" "$@" > "$RUNS/$name.log" 2>&1 || echo "$name failed"
  mkdir -p "$RES/$name"
  cp "$RUNS/$name"/{config.json,results.json,results.md,runs.json} "$RES/$name/"
}
bench california-housing --dataset california-housing \
  --data "$DATA/california-housing/california_housing.csv"
HF_HUB_OFFLINE=1 bench stsb-dir-minilm --dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm
python scripts/issue13_ablations.py "$RES" > "$RES/summary.md"
cat "$RES/summary.md"
