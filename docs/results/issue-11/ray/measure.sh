#!/usr/bin/env bash
# The "Grids on Ray" figures of docs/scaling.md: one grid with the local executor and with
# --executor ray (a local Ray started by the command), wall times and the comparison of the run
# files. Usage: bash docs/results/issue-11/ray/measure.sh SCRATCH_DIR (the run directories go
# there; the small files are copied here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=${1:?scratch dir}
mkdir -p "$tmp"
export OMP_NUM_THREADS=1
args=(--dataset diamonds --methods vanilla,lds,rrt,latentdiff,latentdiff+lds --seeds 0,1,2
      --epochs 10 --diffusion-steps 300 --no-progress --overwrite)
: > "$here/timing.txt"
for ex in local ray; do
  echo "$ex: cores $(nproc --all), load before $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/timing.txt"
  start=$(date +%s.%N)
  latentdiff bench "${args[@]}" --out "$tmp/$ex" --executor "$ex" > "$tmp/$ex.log" 2>&1
  end=$(date +%s.%N)
  echo "$ex: wall $(python -c "print(f'{$end - $start:.1f}')") s, load after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$here/timing.txt"
  mkdir -p "$here/$ex"
  cp "$tmp/$ex"/{config.json,runs.json,results.json,results.md} "$here/$ex/"
done
python "$here/compare.py" "$here/local" "$here/ray" | tee -a "$here/timing.txt"
