#!/usr/bin/env bash
# The measurements behind docs/design.md's gradient-clipping table and docs/methods.md's INV clip
# note (issue 9). Result files (without checkpoints) land in docs/results/issue-9/.
# About 6 minutes on 2 CPU cores, plus the MiniLM embeddings the first time.
. "$(dirname "$0")/bench-env.sh"
CAL="$DATA/california-housing/california_housing.csv"
# stage-1 gradient clipping: norm 5 (our default for every method) against none
for gc in 5 0; do
  latentdiff bench --dataset california-housing --data "$CAL" --methods vanilla,sqinv,lds \
    --seeds 0,1,2 --grad-clip $gc --out "$OUT/gradclip-$gc" --overwrite --no-progress
done
python scripts/compare_runs.py "$OUT/gradclip-5" "$OUT/gradclip-0"
# INV on STS-B-DIR: the reference's unclipped counts (now the default) against the [5, 1000] clip
latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm \
  --methods vanilla,inv,rrt --seeds 0,1,2 --out "$OUT/stsb-inv-noclip" --overwrite --no-progress
latentdiff bench --dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm --methods vanilla,inv \
  --method-option 'inv.clip=[5,1000]' --seeds 0,1,2 --out "$OUT/stsb-inv-clip" --overwrite --no-progress
python scripts/compare_runs.py "$OUT/stsb-inv-clip" "$OUT/stsb-inv-noclip" --methods vanilla,inv
for d in gradclip-5 gradclip-0 stsb-inv-noclip stsb-inv-clip; do
  mkdir -p "docs/results/issue-9/$d"
  cp "$OUT/$d"/{config.json,results.json,runs.json,results.md} "docs/results/issue-9/$d/"
done
