"""Where the generated features of the few classes lie, per generator (MNIST-LT, IF 100):

* spread: RMS distance of a class's features to the class's real mean, generated / real
  (1: as spread as the encoded features);
* shift: distance of the generated mean to the real mean, in units of the real RMS spread;
* CE agrees: share of the generated features the stage-1 CE head assigns to their class (low:
  they lie beyond the CE decision boundary, where they move it).

    python scripts/ldmlr_spread.py [--seeds 0 1 2] [OUT.json]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from latentdiff.classification.loaders import load_mnist_lt
from latentdiff.classification.methods import LDMLRSettings, _Run

p = argparse.ArgumentParser()
p.add_argument("out", nargs="?", default="docs/results/issue-12/ldmlr/spread/mnist-if100.json")
p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
a = p.parse_args()
ds = load_mnist_lt("../shared/data/mnist-t10k", 100, random_state=0)
few = np.flatnonzero(np.asarray(ds.region_of_class) == "few")
rows = []
for seed in a.seeds:
    run = _Run(ds, seed, "cnn", 30, 1e-3, None)
    Z, y = run.features("ce", "train"), ds.train.y
    head = run.stage1("ce").head
    for gen in ("diffusion", "gaussian", "resample"):
        g = run.generator("ce", LDMLRSettings(generator=gen))
        for k in few:
            zk = Z[y == k]
            mu, spread = zk.mean(0), np.sqrt(((zk - zk.mean(0)) ** 2).sum(1).mean())
            zg = g.sample(np.full(500, k), random_state=seed + 1)
            with torch.no_grad():
                agree = float((head(torch.as_tensor(zg)).argmax(1).numpy() == k).mean())
            rows.append({"seed": seed, "generator": gen, "class": int(k), "rows": int(len(zk)),
                         "spread": float(np.sqrt(((zg - mu) ** 2).sum(1).mean()) / spread),
                         "shift": float(np.linalg.norm(zg.mean(0) - mu) / spread),
                         "ce_agrees": agree})  # fmt: skip
            print(rows[-1], flush=True)
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
doc = {"records": rows, "command": "python scripts/ldmlr_spread.py", "dataset": ds.summary()}
Path(a.out).write_text(json.dumps(doc, indent=1, default=str))
