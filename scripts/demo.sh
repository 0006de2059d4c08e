#!/usr/bin/env bash
# The main job on the embedded diamonds data: vanilla vs LatentDiff and the tuned LatentDiff (the
# DIR table; run directory runs/demo), then a model for new rows: fit the tuned LatentDiff on
# 8,000 diamonds, predict the price of 1,000 others (runs/demo-model/predictions.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
latentdiff demo "$@"
python scripts/demo_rows.py runs/demo-model
latentdiff fit --data runs/demo-model/diamonds-train.csv --target price --methods latentdiff-tuned \
  --out runs/demo-model/model --overwrite --no-progress
latentdiff predict runs/demo-model/model --data runs/demo-model/diamonds-new.csv --id-column id \
  --out runs/demo-model/predictions.csv
python - <<'PY'
import pandas as pd
p = pd.read_csv("runs/demo-model/predictions.csv").merge(pd.read_csv("runs/demo-model/diamonds-new-prices.csv"), on="id")
err = (p["prediction"] - p["price"]).abs()
print(f"held-back diamonds: {len(p)} predicted, MAE {err.mean():,.0f} USD; "
      f"above 10,000 USD ({int((p.price > 10000).sum())} stones): MAE {err[p.price > 10000].mean():,.0f} USD")
print(p.head(5).to_string(index=False))
PY
