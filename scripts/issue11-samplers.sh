#!/usr/bin/env bash
# Issue 11, point 3: DDPM / DDIM / DPM-Solver++ at 5, 10, 20, 25 and 50 (= T) steps on California
# Housing and STS-B-DIR (MiniLM), 3 seeds; per seed the network and the diffusion model are
# trained once and resampled with every sampler (scripts/issue11-samplers.py). Two streams, one
# CPU thread each. Checkpoints under OUT (scripts/bench-env.sh); the result files and the table
# land in docs/results/issue-11/samplers/.
. "$(dirname "$0")/bench-env.sh"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
SEEDS=${SEEDS:-0,1,2}
RES=docs/results/issue-11/samplers
mkdir -p "$RES" "$OUT/issue11-samplers"
python scripts/issue11-samplers.py run --dataset california-housing \
  --data "$DATA/california-housing/california_housing.csv" --seeds "$SEEDS" \
  --work "$OUT/issue11-samplers/california-housing" --json "$RES/california-housing.json" \
  > "$OUT/issue11-samplers/california-housing.log" 2>&1 &
cal=$!
python scripts/issue11-samplers.py run --dataset stsb-dir --data "$DATA/stsb-dir" --encoder minilm \
  --seeds "$SEEDS" --work "$OUT/issue11-samplers/stsb-dir-minilm" \
  --json "$RES/stsb-dir-minilm.json" > "$OUT/issue11-samplers/stsb-dir-minilm.log" 2>&1 &
sts=$!
wait $cal $sts
python scripts/issue11-samplers.py table "$RES"/california-housing.json "$RES"/stsb-dir-minilm.json \
  > "$RES/summary.md"
cat "$RES/summary.md"
