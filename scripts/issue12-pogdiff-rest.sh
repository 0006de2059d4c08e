#!/usr/bin/env bash
# Issue 12, part 2, the rest of PoGDiff's measurements (after scripts/issue12-pogdiff.sh), 3 seeds,
# one thread, each variant in a run with vanilla and latentdiff (the networks are bit-identical
# across runs, and latentdiff in the same run is what each pogdiff variant is paired against):
#  1. seed 003's Table 5 ablation (pogdiff without the similarity factor, without the inverse
#     density) on STS-B-DIR (MiniLM) and diamonds;
#  2. STS-B-DIR's default run again (its checkpoints for) the per-bin Frechet distance and gate
#     acceptance (scripts/issue12_pogdiff_frechet.py);
#  3. latentdiff-tuned with pogdiff among its candidate generators on California Housing, beside
#     latentdiff-tuned with its default candidates;
#  4. pogdiff's k (k_neighbours 5, 20; 10 is the default run) on California Housing;
#  5. latentdiff-tuned with pogdiff as its first generator (searched in full; the others on the
#     generator axis) on California Housing;
#  6. pogdiff's a3 (0.5, 2; 1 is the default run) on California Housing.
# Result files: docs/results/issue-12/pogdiff/<run>/. STEPS (default "1 2 3 4 5 6") picks steps.
# Tables: scripts/issue12_pogdiff_table.py (docs/methods.md, "PoGDiff", gives each command).
# With a virtual environment already active (VIRTUAL_ENV), it is used as it is.
if [ -n "${VIRTUAL_ENV:-}" ]; then
  set -euo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  DATA=${LATENTDIFF_SHARED_DATA:-../shared/data}
  OUT=${OUT:-bench-out}
else
  . "$(dirname "$0")/bench-env.sh"
fi
export OMP_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
STEPS=${STEPS:-1 2 3 4 5 6}
RUNS="$OUT/issue12-pogdiff"
RES=docs/results/issue-12/pogdiff
mkdir -p "$RUNS" "$RES"
bench() {
  name=$1; methods=$2; shift 2
  if latentdiff bench --methods "$methods" --seeds "$SEEDS" --no-progress --overwrite \
    --out "$RUNS/$name" "$@" > "$RUNS/$name.log" 2>&1; then
    mkdir -p "$RES/$name"
    cp "$RUNS/$name"/{config.json,results.json,results.md,runs.json} "$RES/$name/"
  else
    echo "$name failed (log: $RUNS/$name.log)"
  fi
}
CH=(--dataset california-housing --data "$DATA/california-housing/california_housing.csv")
ST=(--dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm)
export HF_HUB_OFFLINE=1  # MiniLM from the local cache
for step in $STEPS; do
  case $step in
  1)
    for ab in similarity_term density_term; do
      bench "stsb-dir-minilm-no-$ab" vanilla,latentdiff,pogdiff "${ST[@]}" \
        --pogdiff-option "$ab=false"
      bench "diamonds-no-$ab" vanilla,latentdiff,pogdiff --dataset diamonds \
        --pogdiff-option "$ab=false"
    done ;;
  2)
    bench stsb-dir-minilm vanilla,latentdiff,pogdiff "${ST[@]}"
    python scripts/issue12_pogdiff_frechet.py "$RUNS/stsb-dir-minilm" "$RES/stsb-dir-minilm-frechet"
    ;;
  3)
    bench california-housing-tuned vanilla,latentdiff,latentdiff-tuned "${CH[@]}"
    bench california-housing-tuned-pogdiff vanilla,latentdiff,latentdiff-tuned "${CH[@]}" \
      --method-option 'latentdiff-tuned.generators=["diffusion","gaussian","interp","pogdiff"]'
    ;;
  4)
    for k in 5 20; do
      bench "california-housing-k$k" vanilla,latentdiff,pogdiff "${CH[@]}" \
        --pogdiff-option "k_neighbours=$k"
    done ;;
  5)
    bench california-housing-tuned-pogdiff-first vanilla,latentdiff,latentdiff-tuned "${CH[@]}" \
      --method-option 'latentdiff-tuned.generators=["pogdiff","diffusion","gaussian","interp"]'
    ;;
  6)
    for a3 in 0.5 2; do
      bench "california-housing-a3-$a3" vanilla,latentdiff,pogdiff "${CH[@]}" \
        --pogdiff-option "a3=$a3"
    done ;;
  esac
done
