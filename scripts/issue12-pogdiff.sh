#!/usr/bin/env bash
# Issue 12, part 2: PoGDiff (seed 003) in feature space against plain LatentDiff, same run, 3
# seeds, one thread: `latentdiff bench --methods vanilla,latentdiff,pogdiff` on California
# Housing; seed 003's Table 5 ablation (pogdiff without the similarity factor, without the
# inverse density: --pogdiff-option similarity_term=false / density_term=false), each with
# vanilla in its run; the per-bin Frechet distance of generated to held-out real features
# (scripts/issue12_pogdiff_frechet.py, on the first run's networks). Result files:
# docs/results/issue-12/pogdiff/. Then STS-B-DIR (MiniLM) and diamonds, vanilla / latentdiff /
# pogdiff.
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
RUNS="$OUT/issue12-pogdiff"
RES=docs/results/issue-12/pogdiff
mkdir -p "$RUNS" "$RES"
bench() { name=$1; methods=$2; shift 2; latentdiff bench --methods "$methods" --seeds "$SEEDS" \
  --no-progress --overwrite --out "$RUNS/$name" "$@" > "$RUNS/$name.log" 2>&1 || echo "$name failed"; }
CH=(--dataset california-housing --data "$DATA/california-housing/california_housing.csv")
bench california-housing vanilla,latentdiff,pogdiff "${CH[@]}"
for ab in similarity_term density_term; do
  bench "california-housing-no-$ab" vanilla,pogdiff "${CH[@]}" --pogdiff-option "$ab=false"
done
# control: psi ~ 0 (a3 = 1e9), the plain loss with PoGDiff's extra draws and forward pass
bench california-housing-psi0 vanilla,pogdiff "${CH[@]}" --pogdiff-option a3=1e9
HF_HUB_OFFLINE=1 bench stsb-dir-minilm vanilla,latentdiff,pogdiff --dataset stsb-dir \
  --data "$DATA/stsb-dir" --encoder minilm
bench diamonds vanilla,latentdiff,pogdiff --dataset diamonds
for run in california-housing california-housing-no-similarity_term \
  california-housing-no-density_term california-housing-psi0 stsb-dir-minilm diamonds; do
  mkdir -p "$RES/$run"
  cp "$RUNS/$run"/{config.json,results.json,results.md,runs.json} "$RES/$run/"
done
for run in california-housing diamonds; do
  python scripts/issue12_pogdiff_frechet.py "$RUNS/$run" "$RES/$run-frechet"
done
cat "$RES/california-housing/results.md"
