#!/usr/bin/env bash
# Transfer of the feature generator (issue 10; CoDSA, seed 001, app. A) measured on diamonds:
# a generator pretrained in a run on the default 8,000 training diamonds, fine-tuned (every
# parameter, or the denoiser's ends) in runs on 1,000 training diamonds of the same seed,
# against one trained from scratch there with as many steps. The target runs share the split,
# the seed and so the vanilla network: they differ only in where the generator starts.
# Result files (without checkpoints) land in docs/results/issue-10/transfer/. About 20 minutes
# on 2 busy CPU cores with one thread (OMP_NUM_THREADS=1: on cores shared with other work, two
# torch threads made a diffusion step 35 times slower, 3.4 s instead of 0.1 s).
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
OUT="$OUT/issue-10-transfer"
SEEDS=${SEEDS:-0,1,2}
COMMON=(--dataset diamonds --seeds "$SEEDS" --no-progress --overwrite)
latentdiff bench "${COMMON[@]}" --methods latentdiff --diffusion-steps 1000 --out "$OUT/source"
TARGET=(--max-train 1000 --methods vanilla,latentdiff --diffusion-steps 300)
latentdiff bench "${COMMON[@]}" "${TARGET[@]}" --out "$OUT/scratch"
for mode in full head; do
  latentdiff bench "${COMMON[@]}" "${TARGET[@]}" --generator-from "$OUT/source" \
    --fine-tune $mode --out "$OUT/$mode"
done
R=docs/results/issue-10/transfer
for d in source scratch full head; do
  mkdir -p "$R/$d"
  cp "$OUT/$d"/{config.json,results.json,runs.json,results.md} "$R/$d/"
done
for metric in mse mae; do
  for mode in full head; do
    python scripts/compare_runs.py "$OUT/scratch" "$OUT/$mode" --metric $metric --methods latentdiff
  done
done | tee "$R/comparison.md"
# the generator's denoising loss (eq. 7, mean of the first and of the last 50 of its steps) and
# the synthetic features kept, per arm and seed, from runs.json (tests/test_doc_results.py
# regenerates comparison.md from the committed copies)
python scripts/doc_results.py transfer-losses "$OUT" | tee -a "$R/comparison.md"
