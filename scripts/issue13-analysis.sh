#!/usr/bin/env bash
# Issue 13, point 1: the feature-quality analysis (seed 000 appendix C, docs/analysis.md) of a
# California Housing run: vanilla and four LatentDiff-family methods (the diffusion model, the
# per-bin Gaussian, in-bin interpolation, PoGDiff), 3 seeds, one thread. The run keeps its
# feature samples (analysis/seed-S/*.safetensors, not committed); `latentdiff analyse` computes
# every number from them. Result files (no features):
# docs/results/issue-13/analysis/california-housing/ (config.json, results.json, results.md,
# runs.json, analysis.json, analysis.md).
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
METHODS=vanilla,latentdiff,latentdiff-gaussian,latentdiff-interp,pogdiff
RUN="$OUT/issue13-analysis/california-housing"
RES=docs/results/issue-13/analysis/california-housing
mkdir -p "$RES"
latentdiff bench --methods "$METHODS" --seeds "$SEEDS" --dataset california-housing \
  --data "$DATA/california-housing/california_housing.csv" --no-progress --overwrite --out "$RUN"
# analysis.md: the summary only (its last line, "written: ...", names the uncommitted folder), so
# that it regenerates from analysis.json (tests/test_doc_results.py)
latentdiff analyse "$RUN" --out "$RUN/analysis-out" | sed '/^written: /d' > "$RUN/analysis.md"
cp "$RUN"/{config.json,results.json,results.md,runs.json,analysis.md} "$RES/"
cp "$RUN/analysis-out/analysis.json" "$RES/"
cat "$RES/analysis.md"
