#!/usr/bin/env bash
# The demo at full size, killed with SIGKILL half-way through diffusion training (after the
# checkpoint at step 1000 of 2000), resumed, and compared byte for byte with an uninterrupted
# demo. About 3 minutes on 2 cores. Usage: bash scripts/kill_and_resume.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. .venv/bin/activate
work=${1:-$(mktemp -d)}
rm -rf "$work/whole" "$work/killed"
latentdiff demo --out "$work/whole" --no-progress >/dev/null
latentdiff demo --out "$work/killed" --no-progress >/dev/null 2>&1 &
pid=$!
python - "$work/killed" <<'PY'
import sys, time
from pathlib import Path
from latentdiff.io import load_state
ck = Path(sys.argv[1]) / "checkpoints/seed-0/generator/diffusion.safetensors"
while True:
    if ck.exists():
        try:
            if load_state(ck, None)[1]["step"] >= 1000:
                break
        except (ValueError, FileNotFoundError):
            pass  # replaced while being read: look again
    time.sleep(0.5)
PY
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
python -c "import sys; from latentdiff.io import load_state; print('killed after diffusion step', load_state(sys.argv[1], None)[1]['step'])" \
  "$work/killed/checkpoints/seed-0/generator/diffusion.safetensors"
latentdiff demo --resume "$work/killed" --no-progress >/dev/null
cmp "$work/whole/results.json" "$work/killed/results.json"
echo "results.json of the resumed demo is byte-identical to the uninterrupted one ($work)"
