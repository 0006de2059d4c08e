"""One LDMLR classification run: ``python scripts/ldmlr_run.py mnist|digits IF SEED [OUT.json]``
(methods ce, label-shift, ldmlr, label-shift+ldmlr on one shared stage 1)."""

import json
import sys
import time

from latentdiff.classification.loaders import load_digits_lt, load_mnist_lt
from latentdiff.classification.methods import run_classification

name, imb, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
t0 = time.time()
if name == "mnist":
    ds = load_mnist_lt("../shared/data/mnist-t10k", imb, random_state=0)
    rows, details = run_classification(ds, seed=seed, encoder="cnn", epochs=30)
else:
    ds = load_digits_lt(imb, random_state=0)
    rows, details = run_classification(ds, seed=seed, encoder="mlp", epochs=60)
details["seconds"] = round(time.time() - t0, 1)
details["dataset"] = ds.summary()
for r in rows:
    if r["metric"] == "accuracy":
        print(f"{r['method']:20s} {r['region']:7s} {r['value']}")
print(json.dumps({k: v for k, v in details.items() if k != "dataset"}))
if len(sys.argv) > 4:
    with open(sys.argv[4], "w") as f:
        json.dump({"records": rows, "details": details}, f, indent=1)
