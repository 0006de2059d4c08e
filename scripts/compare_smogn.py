"""Compare latentdiff's SMOGN with the ``smogn`` registry package on California Housing.

The ``smogn`` package needs numpy < 2.4, so it runs out of tree in its own virtual environment,
given by ``--ref-python`` or the ``SMOGN_REF_PYTHON`` environment variable, e.g.::

    python3 -m venv /work/smogn-ref
    /work/smogn-ref/bin/pip install smogn "numpy<2.4" "pandas<3"
    python scripts/compare_smogn.py --ref-python /work/smogn-ref/bin/python \
        --out docs/smogn-comparison.md

Both methods get the same subsample (``--n`` rows, ``--seed``) with z-scored features and the
label ``MedHouseVal``; the markdown reports counts, label quantiles, a histogram, two-sample
distances between the resampled label sets and the wall time of each resampling call.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, wasserstein_distance

from latentdiff.samplers import smogn
from latentdiff.samplers.relevance import relevance, relevance_control_points

DATA = "/work/shared/data/california-housing/california_housing.csv"
TARGET = "MedHouseVal"

# Runs inside the reference venv: reads the CSV, times smogn.smoter, writes labels + time.
_REF_SCRIPT = """
import json, random, sys, time
import numpy as np, pandas as pd, smogn
src, dst, k, pert, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), \
    int(sys.argv[5])
df = pd.read_csv(src)
np.random.seed(seed); random.seed(seed)
t0 = time.perf_counter()
out = smogn.smoter(data=df, y="y", k=k, pert=pert, samp_method="balance", rel_thres=0.5)
dt = time.perf_counter() - t0
json.dump({"seconds": dt, "y": out["y"].astype(float).tolist(), "n_cols": out.shape[1],
           "smogn": getattr(smogn, "__version__", None), "numpy": np.__version__,
           "pandas": pd.__version__}, open(dst, "w"))
"""


def _ref_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('smogn'))"
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def _run_reference(
    python: str, X: np.ndarray, y: np.ndarray, k: int, pert: float, seed: int
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.json"
        cols = {f"x{j}": X[:, j] for j in range(X.shape[1])}
        pd.DataFrame({**cols, "y": y}).to_csv(src, index=False, float_format="%.17g")
        subprocess.run(
            [python, "-c", _REF_SCRIPT, str(src), str(dst), str(k), str(pert), str(seed)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return json.loads(dst.read_text())


def _summary(name: str, labels: np.ndarray, y_ref: np.ndarray, n_orig_rare: int) -> dict:
    rare = relevance(labels, reference=y_ref) >= 0.5
    return {
        "name": name,
        "n": labels.size,
        "rare": int(rare.sum()),
        "frequent": int((~rare).sum()),
        "synthetic_rare": int(rare.sum()) - n_orig_rare,
        "labels": labels,
    }


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--ref-python",
        default=os.environ.get("SMOGN_REF_PYTHON"),
        help="python of the venv with the smogn package (or $SMOGN_REF_PYTHON)",
    )
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--n", type=int, default=5000, help="rows in the subsample")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--pert", type=float, default=0.02)
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of ours (median kept)")
    ap.add_argument("--out", default="docs/smogn-comparison.md")
    args = ap.parse_args(argv)
    if not args.ref_python:
        ap.error("give --ref-python or set SMOGN_REF_PYTHON")

    df = pd.read_csv(args.data).sample(n=args.n, random_state=args.seed)
    y = df.pop(TARGET).to_numpy(dtype=np.float64)
    X = df.to_numpy(dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rel = relevance(y)
    n_rare = int((rel >= 0.5).sum())
    knots, phi = relevance_control_points(y)

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        _, y_ours = smogn(X, y, k=args.k, pert=args.pert, random_state=args.seed)
        times.append(time.perf_counter() - t0)
    t_ours = float(np.median(times))
    ref = _run_reference(args.ref_python, X, y, args.k, args.pert, args.seed)
    y_ref = np.asarray(ref["y"])
    version = _ref_version(args.ref_python)

    rows = [
        _summary("original", y, y, n_rare),
        _summary("latentdiff.smogn", y_ours, y, n_rare),
        _summary(f"smogn {version}", y_ref, y, n_rare),
    ]
    qs = [0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0]
    edges = np.linspace(
        min(r["labels"].min() for r in rows), max(r["labels"].max() for r in rows), 11
    )

    cmd = " ".join(
        shlex.quote(a)
        for a in [Path(sys.argv[0]).as_posix(), *(argv if argv is not None else sys.argv[1:])]
    )
    lines = [
        "# SMOGN: latentdiff vs the `smogn` package",
        "",
        f"Produced by `python {cmd}` (written by `scripts/compare_smogn.py`).",
        "",
        f"Data: `{args.data}`, {args.n} rows sampled with `random_state={args.seed}`, 8 features "
        f"z-scored, label `{TARGET}`. Both run SMOGN with `k={args.k}`, `pert={args.pert}`, "
        "`balance`, relevance threshold 0.5, seed "
        f"{args.seed} (reference: `np.random.seed` + `random.seed`).",
        f"Reference: smogn {version}, numpy {ref['numpy']}, pandas {ref['pandas']}, in its own "
        "venv.",
        "",
        f"Relevance control points (both implementations agree exactly): "
        f"{', '.join(f'({a:.4g}, {b:g})' for a, b in zip(knots, phi, strict=True))}; "
        f"{n_rare} of {args.n} samples are rare (labels {y[rel >= 0.5].min():.4g} to "
        f"{y[rel >= 0.5].max():.4g}).",
        "",
        "## Counts",
        "",
        "| set | rows | rare (phi >= 0.5) | frequent | new rare rows |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['n']} | {r['rare']} | {r['frequent']} | {r['synthetic_rare']} |"
        )
    lines += [
        "",
        "## Label quantiles",
        "",
        "| set | " + " | ".join(f"q{int(q * 100)}" for q in qs) + " | mean |",
        "|---|" + "---:|" * (len(qs) + 1),
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | "
            + " | ".join(_fmt(v) for v in np.quantile(r["labels"], qs))
            + f" | {_fmt(r['labels'].mean())} |"
        )
    lines += [
        "",
        "## Label histogram (counts)",
        "",
        "| bin | " + " | ".join(r["name"] for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    hists = [np.histogram(r["labels"], bins=edges)[0] for r in rows]
    for i in range(len(edges) - 1):
        lines.append(
            f"| [{edges[i]:.2f}, {edges[i + 1]:.2f}) | "
            + " | ".join(str(h[i]) for h in hists)
            + " |"
        )

    ours_l, ref_l = rows[1]["labels"], rows[2]["labels"]
    rare_cut = relevance(ours_l, reference=y) >= 0.5, relevance(ref_l, reference=y) >= 0.5
    lines += [
        "",
        "## Agreement of the resampled labels (ours vs reference)",
        "",
        "| subset | KS statistic | KS p-value | Wasserstein-1 |",
        "|---|---:|---:|---:|",
    ]
    for name, a, b in [
        ("all rows", ours_l, ref_l),
        ("rare rows", ours_l[rare_cut[0]], ref_l[rare_cut[1]]),
        ("frequent rows", ours_l[~rare_cut[0]], ref_l[~rare_cut[1]]),
        (
            "rare rows, reference labels > max(y) dropped",
            ours_l[rare_cut[0]],
            ref_l[rare_cut[1] & (ref_l <= y.max())],
        ),
    ]:
        ks = ks_2samp(a, b)
        lines.append(
            f"| {name} | {ks.statistic:.4f} | {ks.pvalue:.3g} | {wasserstein_distance(a, b):.4f} |"
        )
    lines += [
        "",
        "## Wall time of the resampling call",
        "",
        "| implementation | seconds |",
        "|---|---:|",
        f"| latentdiff.smogn (median of {args.repeats}) | {t_ours:.4f} |",
        f"| smogn {version} (1 run) | {ref['seconds']:.2f} |",
        "",
        f"Speed-up: {ref['seconds'] / t_ours:,.0f}x.",
        "",
    ]
    lines += [
        "## Known differences",
        "",
        "- smogn 0.1.2 undersamples with `data.drop(index=chosen)`: it drops the rows it drew "
        "to keep, so a frequent bump of size n ends with n - b rows instead of b (b = "
        "round(n / n_bumps)), and the originals come back through that drop (cf. "
        "nickkunz/smogn issue #21). latentdiff keeps b frequent rows, so its frequent count "
        "differs by design; compare the shapes of the rare and frequent subsets instead.",
        "- smogn's neighbour distances include the label column; latentdiff uses the features "
        "only. smogn's safe distance is half the median distance to *all* members of the bump; "
        "latentdiff uses half the median distance to the k neighbours (Branco et al. 2017, "
        "Alg. 2).",
        "- smogn 0.1.2's label weighting reads the distances of one column only (the last, "
        "which is the label slot of the synthetic row, not yet written: uninitialised memory, in "
        "practice 0). The synthetic label is then the harmonic mean `2 y_s y_n / (y_s + y_n)` "
        "of the seed and neighbour labels, wherever x lies on the segment (with x = y as the "
        "only feature, 97% of its synthetic labels are such a harmonic mean and none equals x), "
        "and on a tie `y_s + y_n / 2` (operator precedence), e.g. 5 + 5 / 2 = 7.5 for the "
        "capped California labels, beyond the data range. latentdiff interpolates the label at "
        "the features' ratio (Torgo et al. 2013, Alg. 2) and takes the mean on an exact tie. "
        "This, not randomness, is why the rare-row label distributions differ.",
        "- smogn clips to 0 every synthetic column that has a positive value in the bump "
        "(including z-scored features and the label); latentdiff does not clip.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
