"""Paired per-seed differences between two run directories of the same data and seeds, method
by method (the same method under two settings: B - A).

    python scripts/compare_runs.py A_DIR B_DIR [--metric mse] [--methods vanilla,lds]

Prints a markdown table: for each method and region the mean over seeds in A and in B, and the
paired difference B - A as mean ± sample std with the number of seeds where B is better. It only
reads what the benchmarks wrote.
"""

from __future__ import annotations

import argparse

import numpy as np

from latentdiff.metrics import LOWER_IS_BETTER, REGION_COLUMNS
from latentdiff.reporting.runs import load_run


def _values(run, metric: str) -> dict:
    return {(r["method"], r["seed"], r["region"]): r["value"] for r in run.records
            if r["metric"] == metric and r["value"] is not None}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--metric", default="mse")
    p.add_argument("--methods", help="comma-separated (default: those of both runs)")
    args = p.parse_args()
    a, b = load_run(args.a), load_run(args.b)
    va, vb = _values(a, args.metric), _values(b, args.metric)
    methods = args.methods.split(",") if args.methods else [m for m in a.methods if m in b.methods]
    print(f"{args.metric.upper()}, A = `{a.path.name}`, B = `{b.path.name}`: mean over seeds "
          "A → B, and B − A paired per seed (mean ± std, seeds where B is better).\n")  # fmt: skip
    print("| method | " + " | ".join(REGION_COLUMNS) + " |")
    print("|---" * (len(REGION_COLUMNS) + 1) + "|")
    for m in methods:
        cells = []
        for region in REGION_COLUMNS:
            seeds = sorted(s for (mm, s, r) in va if mm == m and r == region and (m, s, r) in vb)
            x = np.array([va[(m, s, region)] for s in seeds])
            y = np.array([vb[(m, s, region)] for s in seeds])
            d = y - x
            better = int(np.sum(d < 0) if LOWER_IS_BETTER[args.metric] else np.sum(d > 0))
            sd = d.std(ddof=1) if d.size > 1 else 0.0
            cells.append(f"{x.mean():.4f} → {y.mean():.4f} ({d.mean():+.4f} ± {sd:.4f}, "
                         f"{better}/{d.size})")  # fmt: skip
        print(f"| {m} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
