#!/usr/bin/env bash
# The main job: vanilla vs LatentDiff on the embedded diamonds data; prints the DIR table and
# writes the run directory (default runs/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
latentdiff demo "$@"
