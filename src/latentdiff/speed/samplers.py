"""Wall time of the input-space samplers: latentdiff's SMOTER and SMOGN
(:mod:`latentdiff.samplers.smoter`) and the ``smogn`` registry package's ``smoter`` (SMOGN),
measured on one table with the same settings (k = 5, pert = 0.02, ``balance``, relevance
threshold 0.5, seed 0).

The ``smogn`` package needs numpy < 2.4, so it usually lives in a virtual environment of its own
(``scripts/compare_smogn.py``); it is timed there through that environment's python
(``smogn_python`` or ``$SMOGN_REF_PYTHON``), or in this process when it imports here. Without
either it is skipped, and the report says so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..samplers.smoter import smogn, smoter

#: runs inside the smogn environment: reads the CSV, times smogn.smoter, prints JSON
_REF = """
import json, random, sys, time
import numpy as np, pandas as pd, smogn
df = pd.read_csv(sys.argv[1])
np.random.seed(0); random.seed(0)
t0 = time.perf_counter()
out = smogn.smoter(data=df, y="y", k=5, pert=0.02, samp_method="balance", rel_thres=0.5)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows_out": int(len(out))}))
"""


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_ours(X: np.ndarray, y: np.ndarray, repeats: int = 3) -> dict:
    """Median seconds of latentdiff's SMOTER and SMOGN on (X, y)."""
    kw = dict(k=5, random_state=0)
    return {
        "rows": int(y.size),
        "features": int(X.shape[1]),
        "repeats": repeats,
        "smoter_seconds": _median_seconds(lambda: smoter(X, y, **kw), repeats),
        "smogn_seconds": _median_seconds(lambda: smogn(X, y, pert=0.02, **kw), repeats),
    }


def time_reference(X: np.ndarray, y: np.ndarray, python: str | None = None) -> dict:
    """Seconds of one ``smogn.smoter`` call on (X, y), or ``{"skipped": why}``."""
    python = python or os.environ.get("SMOGN_REF_PYTHON")
    if python is None and importlib.util.find_spec("smogn") is None:
        return {"skipped": "the smogn package is not installed here and no --smogn-python "
                "(or $SMOGN_REF_PYTHON) names an environment that has it"}  # fmt: skip
    import sys

    python = python or sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.csv"
        cols = ",".join([f"x{j}" for j in range(X.shape[1])] + ["y"])
        np.savetxt(src, np.column_stack([X, y]), delimiter=",", header=cols, comments="",
                   fmt="%.17g")  # fmt: skip
        run = subprocess.run([python, "-c", _REF, str(src)], capture_output=True, text=True)
    if run.returncode != 0:
        return {"skipped": f"smogn failed in {python}: {run.stderr.strip()[-300:]}"}
    version = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('smogn'))"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return {"python": python, "smogn": version, "rows": int(y.size), **json.loads(run.stdout)}


def table(path: str | None, target: str | None, rows: int | None, seed: int = 0):
    """(X z-scored, y, description) of a CSV's numeric columns, or of a synthetic long-tailed
    table (``rows`` rows, 8 features) when no path is given."""
    rng = np.random.default_rng(seed)
    if path is None:
        n = rows or 2000
        y = rng.gamma(2.0, 1.0, n)
        X = rng.normal(size=(n, 8)) + y[:, None] * rng.normal(size=8)
        what = f"a synthetic table: {n} rows, 8 features, gamma(2, 1) labels (seed {seed})"
    else:
        import pandas as pd

        df = pd.read_csv(path)
        if rows is not None and rows < len(df):
            df = df.sample(n=rows, random_state=seed)
        y = df.pop(target).to_numpy(dtype=np.float64)
        X = df.select_dtypes("number").to_numpy(dtype=np.float64)
        what = f"{path}: {len(y)} rows, {X.shape[1]} numeric features, target {target}"
    X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-12)
    return X, y, what
