"""Seed 002's measurements on MNIST-LT with one stage 1 (per kind: ce, cb, wcdas) and one
generator fit per (imbalance factor, seed), shared by every setting through
``run_classification(..., cache=)``:

* ``ratio``: Figure 2, CE + LDMLR at ratios 0.05 .. 1.6, targets all and few;
* ``controls``: Table 5 (encoded only: ce, ce-ft, crt; generated only; both) with the
  diffusion model and the two control generators (a per-class Gaussian; the class's encoded
  features drawn again), targets all and few;
* ``table1``: Table 1's shape, every base with and without +ldmlr, targets all and few.

    python scripts/ldmlr_sweep.py [--if 100 10] [--seeds 0 1 2] [--groups ratio controls table1]
        [--out docs/results/issue-12/ldmlr] [--skip-existing]

writes OUT/GROUP/mnist-ifIF-seedSEED.json ({records, variants, details}); a method with LDMLR
is named ``<method> [<variant>]``, its settings in ``variants``.
"""

import argparse
import json
import time
from pathlib import Path

from latentdiff.classification.loaders import load_mnist_lt
from latentdiff.classification.methods import LDMLRSettings, parse_method, run_classification

RATIOS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
BASES = ("ce", "label-shift", "cb", "crt", "wcdas")


def groups(tail: str):
    """group -> list of (variant tag, LDMLR settings, methods); ``tail``: the rarest region
    of the data set (few, or medium where no class is few: MNIST-LT at IF 10)."""
    targets = ("all", tail)
    ratio = [(f"{t}, r={r}", dict(target=t, ratio=r), ("ce", "ldmlr"))
             for t in targets for r in RATIOS]  # fmt: skip
    controls = [("encoded only", {}, ("ce", "ce-ft", "crt"))]
    for gen in ("diffusion", "gaussian", "resample"):
        only = dict(generator=gen, use="generated", target="all")
        controls.append((f"{gen}, generated only, all", only, ("ldmlr",)))
        for t in targets:
            controls.append((f"{gen}, both, {t}", dict(generator=gen, target=t),
                             ("ldmlr", "crt+ldmlr")))  # fmt: skip
    with_ldmlr = tuple(f"{b}+ldmlr" if b != "ce" else "ldmlr" for b in BASES)
    table1 = [("base", {}, BASES)] + [(t, dict(target=t), with_ldmlr) for t in targets]
    return {"ratio": ratio, "controls": controls, "table1": table1}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--if", dest="ifs", type=float, nargs="+", default=[100.0, 10.0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--groups", nargs="+", default=["ratio", "controls", "table1"])
    p.add_argument("--out", default="docs/results/issue-12/ldmlr")
    p.add_argument("--skip-existing", action="store_true", help="keep result files already there")
    a = p.parse_args()
    data = {imb: load_mnist_lt("../shared/data/mnist-t10k", imb, random_state=0) for imb in a.ifs}
    caches: dict = {}  # (IF, seed) -> the shared stage 1 and generators of run_classification
    for group in a.groups:  # group by group: the first groups are complete first
        for imb, ds in data.items():
            present = set(ds.region_of_class)
            tail = next(r for r in ("few", "medium", "many") if r in present)
            for seed in a.seeds:
                out = Path(a.out) / group / f"mnist-if{imb:g}-seed{seed}.json"
                if a.skip_existing and out.exists():
                    continue
                cache = caches.setdefault((imb, seed), {})
                t0 = time.time()
                rows, variants, details = [], {}, {}
                seen = set()
                for tag, kw, methods in groups(tail)[group]:
                    settings = LDMLRSettings(**kw)
                    r, d = run_classification(ds, methods, seed, encoder="cnn", epochs=30,
                                              ldmlr=settings, cache=cache)  # fmt: skip
                    for rec in r:
                        if parse_method(rec["method"])[1]:
                            rec["method"] = f"{rec['method']} [{tag}]"
                        key = (rec["method"], rec["region"], rec["metric"])
                        if key not in seen:  # a base method scored twice is the same record
                            seen.add(key)
                            rows.append(rec)
                    variants[tag] = {**settings.__dict__, "methods": list(methods)}
                    details[tag] = d
                out.parent.mkdir(parents=True, exist_ok=True)
                skipped = [] if tail == "few" else [f"target few: no class is few; {tail} instead"]
                doc = {"records": rows, "variants": variants, "details": details,
                       "dataset": ds.summary(), "skipped": skipped,
                       "seconds": round(time.time() - t0, 1)}  # fmt: skip
                out.write_text(json.dumps(doc, indent=1, default=str))
                print(f"{out} {doc['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
