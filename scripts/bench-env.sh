# Sourced by the benchmark scripts: the project root, .venv set up and active, the data folder
# (LATENTDIFF_SHARED_DATA, default ../shared/data) and the output folder (OUT, default bench-out).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
. .venv/bin/activate
DATA=${LATENTDIFF_SHARED_DATA:-../shared/data}
OUT=${OUT:-bench-out}
