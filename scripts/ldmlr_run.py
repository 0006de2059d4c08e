"""One LDMLR classification run on one shared stage 1 (methods ce, label-shift, ldmlr,
label-shift+ldmlr, ce-ft):

    python scripts/ldmlr_run.py mnist|digits IF SEED [OUT.json] [--target all|many|medium|few]
        [--ratio 0.2] [--use both|generated] [--methods ce,label-shift,...]

seed 002's ablations: Table 4 (--target), Table 5 (--use), Figure 2 (--ratio).
"""

import argparse
import json
import time

from latentdiff.classification.loaders import load_digits_lt, load_mnist_lt
from latentdiff.classification.methods import LDMLRSettings, run_classification

p = argparse.ArgumentParser()
p.add_argument("data", choices=("mnist", "digits"))
p.add_argument("imbalance_factor", type=float)
p.add_argument("seed", type=int)
p.add_argument("out", nargs="?")
p.add_argument("--target", default="all")
p.add_argument("--ratio", type=float, default=0.2)
p.add_argument("--use", default="both")
p.add_argument("--methods", default="ce,label-shift,ldmlr,label-shift+ldmlr,ce-ft")
a = p.parse_args()
settings = LDMLRSettings(target=a.target, ratio=a.ratio, use=a.use)
t0 = time.time()
if a.data == "mnist":
    ds = load_mnist_lt("../shared/data/mnist-t10k", a.imbalance_factor, random_state=0)
    encoder, epochs = "cnn", 30
else:
    ds = load_digits_lt(a.imbalance_factor, random_state=0)
    encoder, epochs = "mlp", 60
rows, details = run_classification(ds, seed=a.seed, encoder=encoder, epochs=epochs, ldmlr=settings)
details["seconds"] = round(time.time() - t0, 1)
details["settings"] = {"target": a.target, "ratio": a.ratio, "use": a.use, "epochs": epochs,
                       "encoder": encoder}  # fmt: skip
details["dataset"] = ds.summary()
for r in rows:
    if r["metric"] == "accuracy":
        print(f"{r['method']:20s} {r['region']:7s} {r['value']}")
print(json.dumps({k: v for k, v in details.items() if k != "dataset"}))
if a.out:
    with open(a.out, "w") as f:
        json.dump({"records": rows, "details": details}, f, indent=1, default=str)
