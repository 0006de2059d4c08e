"""The LDMLR library surfaces on digits-LT (scikit-learn's 8x8 digits, long-tailed by the
protocol of ``latentdiff.classification.longtail``; one data split, seed 0): ``LDMLRSampler`` in
front of a logistic regression on the 64 pixel features, against the same regression alone,
with balanced class weights and after imbalanced-learn's ``RandomOverSampler`` (LDMLRSampler
at its default ratio 0.2 for all / few classes, and asked for as many rows as the
over-sampler adds: every class up to the largest); and
``LDMLRClassifier`` (ce / ldmlr / label-shift) fitted on the training + validation rows.
Every model is scored on the class-balanced test split, per region of the training counts.

Run:    python scripts/ldmlr_surfaces.py run IF SEED OUT.json
Table:  python scripts/ldmlr_surfaces.py table BASE FILES...   (paired differences vs BASE)
"""

import json
import sys
import time
from collections import defaultdict

import numpy as np


def run(imbalance_factor: float, seed: int, out: str) -> None:
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression

    from latentdiff import LDMLRClassifier, LDMLRSampler
    from latentdiff.classification.loaders import load_digits_lt
    from latentdiff.classification.scores import classification_metrics, records

    ds = load_digits_lt(imbalance_factor)  # the data split: seed 0, as every run
    regions = ds.region_of_class
    X_tr, y_tr, X_te, y_te = ds.train.X, ds.train.y, ds.test.X, ds.test.y

    counts = np.bincount(y_tr)
    balance = {k: int(counts.max()) for k in range(counts.size)}

    def lr(**kw):
        return LogisticRegression(max_iter=2000, **kw)

    pipes = {
        "lr": lr(),
        "lr-balanced": lr(class_weight="balanced"),
        "ros+lr": Pipeline([("s", RandomOverSampler(random_state=seed)), ("c", lr())]),
        "ldmlr-all+lr": Pipeline([("s", LDMLRSampler("all", random_state=seed)), ("c", lr())]),
        "ldmlr-few+lr": Pipeline([("s", LDMLRSampler("few", random_state=seed)), ("c", lr())]),
        # as many new rows as RandomOverSampler adds: every class up to the largest
        "ldmlr-balance+lr": Pipeline(
            [("s", LDMLRSampler(balance, random_state=seed)), ("c", lr())]
        ),  # fmt: skip
    }
    rows, details = [], {"dataset": ds.summary(), "seconds": {}}
    for name, model in pipes.items():
        t0 = time.perf_counter()
        model.fit(X_tr, y_tr)
        details["seconds"][name] = round(time.perf_counter() - t0, 2)
        rows += records(ds.name, name, seed, classification_metrics(y_te, model.predict(X_te),
                                                                    regions))  # fmt: skip
    # the classifier carves its own validation split: it gets the training and validation rows
    X_fit = np.concatenate([X_tr, ds.val.X])
    y_fit = np.concatenate([y_tr, ds.val.y])
    for name, params in {
        "clf-ce": {"method": "ce"},
        "clf-label-shift": {"method": "label-shift"},
        "clf-ldmlr": {"method": "ldmlr"},
        "clf-ldmlr-few": {"method": "ldmlr", "target": "few"},
    }.items():
        t0 = time.perf_counter()
        clf = LDMLRClassifier(**params, random_state=seed).fit(X_fit, y_fit)
        details["seconds"][name] = round(time.perf_counter() - t0, 2)
        rows += records(ds.name, name, seed, classification_metrics(y_te, clf.predict(X_te),
                                                                    regions))  # fmt: skip
    with open(out, "w") as f:
        json.dump({"records": rows, "details": details}, f, indent=1)


def table(base: str, files: list[str]) -> None:
    vals = defaultdict(dict)  # (method, region, metric) -> {seed: value}
    for path in files:
        for r in json.load(open(path))["records"]:
            vals[(r["method"], r["region"], r["metric"])][r["seed"]] = r["value"]
    methods = list(dict.fromkeys(k[0] for k in vals))
    for metric in ("accuracy", "macro_f1"):
        print(f"\n{metric} (%), mean ± std over seeds; [paired difference vs {base}]\n")
        print("| method | all | many | medium | few |\n|---|---|---|---|---|")
        for m in methods:
            cells = []
            for region in ("all", "many", "medium", "few"):
                v = vals.get((m, region, metric), {})
                seeds = sorted(s for s in v if v[s] is not None)
                if not seeds:
                    cells.append("-")
                    continue
                a = 100 * np.array([v[s] for s in seeds])
                cell = f"{a.mean():.1f} ± {a.std(ddof=1) if len(a) > 1 else 0:.1f}"
                if m != base:
                    d = 100 * np.array([v[s] - vals[(base, region, metric)][s] for s in seeds])
                    cell += f" [{d.mean():+.1f} ± {d.std(ddof=1) if len(d) > 1 else 0:.1f}]"
                cells.append(cell)
            print(f"| {m} | {' | '.join(cells)} |")
    print(f"\n{len(files)} files")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        table(sys.argv[2], sys.argv[3:])
