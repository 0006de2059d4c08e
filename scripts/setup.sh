#!/usr/bin/env bash
# Create .venv (once) and install the project with the pinned CPU torch first: an unpinned torch
# would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.latentdiff-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  python -m pip install --quiet --upgrade pip 2>/dev/null || true
  python -m pip install --quiet "torch==2.13.0"
  python -m pip install --quiet -e ".[text,dev,ray]"
  touch "$stamp"
fi
