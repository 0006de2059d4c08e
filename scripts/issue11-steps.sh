#!/usr/bin/env bash
# Issue 11, point 1: how long the (now 128-wide) denoiser must train, measured downstream on
# California Housing, 3 seeds, vanilla and latentdiff in each run, one torch thread per process:
# fixed 250 / 500 / 1,000 / 2,000 steps without early stopping, and the default early stopping
# (es2: min_delta 0.02, patience 5). The old 512-wide, 3-block, 2,000-step network's figures are
# issue 10's run (docs/results/issue-10/california-housing: the same networks, bit for bit).
# Result files: docs/results/issue-11/steps/california-*/ (docs/design.md, "Training length").
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
CAL="$DATA/california-housing/california_housing.csv"
run() {
  tag=$1; shift
  latentdiff bench --dataset california-housing --data "$CAL" --methods vanilla,latentdiff \
    --seeds 0,1,2 --out "$OUT/issue11-steps/$tag" --no-progress --overwrite "$@"
  mkdir -p "docs/results/issue-11/steps/california-$tag"
  cp "$OUT/issue11-steps/$tag"/{config.json,results.json,results.md,runs.json} \
    "docs/results/issue-11/steps/california-$tag/"
}
for n in 250 500 1000 2000; do
  run "w128s$n" --diffusion-option early_stopping=false --diffusion-option n_steps=$n
done
run es2
