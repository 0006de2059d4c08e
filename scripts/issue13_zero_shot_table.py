"""Summary of the zero-shot runs (scripts/issue13-zero-shot.sh): for each data set under RES,
mean ± std per region of each table metric, paired differences against vanilla and
latentdiff-fill against latentdiff, what latentdiff-fill generated in the gap bins, and the mean
signed test error (prediction - label) per zero-shot region; seed 004's Table 6
(IMDB-WIKI-DIR, MAE) beside them for reference.

    python scripts/issue13_zero_shot_table.py docs/results/issue-13/zero-shot > summary.md
    python scripts/issue13_zero_shot_table.py RES --from-runs RUNS   # signed_error.json first
    python scripts/issue13_zero_shot_table.py RES --compact          # the docs' table

``--from-runs RUNS`` first writes ``RES/<dataset>/signed_error.json`` from the test predictions
in ``RUNS/<dataset>/analysis/`` (the run directories; their analysis files stay there).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from latentdiff.reporting.runs import format_mean_std, number, paired_differences, summarise

REGIONS = ("all", "with-data", "many", "medium", "few", "zero-shot-interp", "zero-shot-extrap")
SHORT = {"zero-shot-interp": "interp", "zero-shot-extrap": "extrap"}

#: seed 004, Table 6: interpolation & extrapolation on a curated subset of IMDB-WIKI-DIR (ages,
#: images, ResNet-50), MAE: all, w/ data, interp, extrap (typed from the paper, for reference)
SEED004_TABLE6 = {
    "VANILLA": (11.72, 9.32, 16.13, 18.19),
    "VANILLA + LDS": (10.54, 8.31, 14.14, 17.38),
    "VANILLA + FDS": (11.40, 8.97, 15.83, 18.01),
    "VANILLA + LDS + FDS": (10.27, 8.11, 13.71, 17.02),
}


def _gap_generation(runs: list[dict], method: str) -> str:
    """Mean over seeds of the synthetic features requested / accepted in filled (empty) bins."""
    req, acc, nbins = [], [], []
    for r in runs:
        if r["method"] != method or "per_bin" not in r:
            continue
        filled = [b for b in r["per_bin"] if b.get("filled")]
        nbins.append(len(filled))
        req.append(sum(b["requested"] for b in filled))
        acc.append(sum(b["accepted"] for b in filled))
    if not req:
        return "n/a"
    return (f"{np.mean(nbins):.1f} gap bins, {np.mean(req):.0f} requested / {np.mean(acc):.0f} "
            f"accepted per seed")  # fmt: skip


def _paired(records, metric: str, region: str, a: str, b: str) -> str:
    """Per-seed ``a - b``: mean ± std and the seeds in favour of ``a``."""
    d, better = paired_differences(records, metric, region, a, b)
    if d.size == 0:
        return "n/a"
    sd = d.std(ddof=1) if d.size > 1 else 0.0
    sign = "+" if d.mean() > 0 else ""
    return f"{sign}{number(d.mean())} ± {number(sd)} ({better}/{d.size})"


def _top_bins(runs: list[dict], method: str, k: int = 3) -> str:
    """Mean over seeds of the synthetic features accepted in the ``k`` highest non-empty
    generation bins (those next to a range beyond the top)."""
    acc = [sum(b["accepted"] for b in [b for b in r["per_bin"] if b["n_real"] > 0][-k:])
           for r in runs if r["method"] == method and "per_bin" in r]  # fmt: skip
    return f"{np.mean(acc):.0f}" if acc else "n/a"


def compact(res: str) -> str:
    """The docs' table: the headline metric on all / with-data / interp / extrap, mean ± std and
    the paired difference against vanilla (and latentdiff-fill against latentdiff)."""
    cols = ("all", "with-data", "zero-shot-interp", "zero-shot-extrap")
    lines = ["| data | method | " + " | ".join(SHORT.get(c, c) for c in cols) + " |",
             "|---" * (len(cols) + 2) + "|"]  # fmt: skip
    for d in sorted(Path(res).iterdir()):
        if not (d / "results.json").is_file():
            continue
        config = json.loads((d / "config.json").read_text())
        records = json.loads((d / "results.json").read_text())
        metric = config["bench"]["table_metrics"][0]
        s = summarise(records)
        for m in dict.fromkeys(r["method"] for r in records):
            cells = []
            for c in cols:
                cell = format_mean_std(s.get((m, metric, c)))
                if m != "vanilla":  # [paired mean ± std, seeds better]
                    cell += " [" + _paired(records, metric, c, m, "vanilla").replace(" (", ", ")
                    cell = cell[:-1] + "]"
                cells.append(cell)
            lines.append(f"| {d.name} {metric.upper()} | {m} | " + " | ".join(cells) + " |")
        cells = [_paired(records, metric, c, "latentdiff-fill", "latentdiff") for c in cols]
        lines.append(f"| {d.name} {metric.upper()} | fill - latentdiff | " + " | ".join(cells)
                     + " |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_signed_errors(run_dir: Path, out: Path) -> None:
    """Per (method, seed): the mean signed test error in each zero-shot region, as JSON."""
    from latentdiff.analysis.sample import AnalysisFile

    zs = json.loads((run_dir / "config.json").read_text())["dataset_summary"]["zero_shot"]
    rows = []
    for path in sorted((run_dir / "analysis").glob("seed-*/*.safetensors")):
        f = AnalysisFile.read(path)
        err = f.test_pred - f.test_true
        for r in zs["ranges"]:
            lo = -np.inf if r["low"] is None else r["low"]
            hi = np.inf if r["high"] is None else r["high"]
            m = (f.test_true >= lo) & (f.test_true <= hi)
            rows.append({"method": f.meta["method"], "seed": f.meta["seed"],
                         "region": f"zero-shot-{r['kind']}", "n": int(m.sum()),
                         "mean_signed_error": float(err[m].mean())})  # fmt: skip
    out.write_text(json.dumps(rows, indent=1) + "\n")


def _signed_table(path: Path, methods: list[str]) -> list[str]:
    rows = json.loads(path.read_text())
    regions = list(dict.fromkeys(r["region"] for r in rows))
    lines = ["Mean signed test error (prediction - label; negative: predicted too low), mean ± "
             "std over seeds (`signed_error.json`):", "",
             "| method | " + " | ".join(SHORT.get(r, r) for r in regions) + " |",
             "|---" * (len(regions) + 1) + "|"]  # fmt: skip
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        cells = [format_mean_std([r["mean_signed_error"] for r in mine if r["region"] == g])
                 for g in regions]  # fmt: skip
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def section(run_dir: Path) -> list[str]:
    config = json.loads((run_dir / "config.json").read_text())
    records = json.loads((run_dir / "results.json").read_text())
    runs = json.loads((run_dir / "runs.json").read_text())
    s = summarise(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    zs = config["dataset_summary"]["zero_shot"]
    counts = zs["test_region_counts"]
    lines = [
        f"## {run_dir.name}: `--zero-shot {zs['spec']}`, seeds {seeds}",
        "",
        f"Removed: {zs['removed']['train']} training and {zs['removed']['val']} validation rows. "
        "Test rows: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".",
        "",
    ]
    head = " | ".join(SHORT.get(r, r) for r in REGIONS)
    metrics = config["bench"]["table_metrics"]
    for metric in metrics:
        lines += [f"### {metric.upper()}, mean ± std", "", f"| method | {head} |",
                  "|---" * (len(REGIONS) + 1) + "|"]  # fmt: skip
        for m in methods:
            cells = [format_mean_std(s.get((m, metric, r))) for r in REGIONS]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    metric = metrics[0]  # the headline metric
    lines += [f"### {metric.upper()}, paired difference per seed: mean ± std (seeds in favour)",
              "", f"| comparison | {head} |", "|---" * (len(REGIONS) + 1) + "|"]  # fmt: skip
    pairs = [(m, "vanilla") for m in methods if m != "vanilla"]
    if {"latentdiff", "latentdiff-fill"} <= set(methods):
        pairs.append(("latentdiff-fill", "latentdiff"))
    for a, b in pairs:
        cells = [_paired(records, metric, r, a, b) for r in REGIONS]
        lines.append(f"| {a} - {b} | " + " | ".join(cells) + " |")
    lines.append("")
    if "latentdiff-fill" in methods:
        fill, plain = _gap_generation(runs, "latentdiff-fill"), _gap_generation(runs, "latentdiff")
        top = f"{_top_bins(runs, 'latentdiff-fill')} (latentdiff {_top_bins(runs, 'latentdiff')})"
        lines += [f"latentdiff-fill generated in the gap: {fill}; latentdiff: {plain}. Accepted "
                  f"in the 3 highest non-empty generation bins per seed: latentdiff-fill {top}.",
                  ""]  # fmt: skip
    if (run_dir / "signed_error.json").is_file():
        lines += _signed_table(run_dir / "signed_error.json", methods)
    return lines


def main(res: str) -> str:
    lines = ["# Zero-shot labels (issue 13, point 3; seed 004 Table 6)", "",
             "Written by `python scripts/issue13_zero_shot_table.py " + res + "` from the run "
             "files beside it (scripts/issue13-zero-shot.sh).", ""]  # fmt: skip
    for d in sorted(Path(res).iterdir()):
        if (d / "results.json").is_file():
            lines += section(d)
    lines += ["## Seed 004, Table 6 (reference: IMDB-WIKI-DIR, another data set and network)", "",
              "MAE on a curated IMDB-WIKI-DIR subset with no training data in some age ranges.", "",
              "| method | all | w/ data | interp | extrap |", "|---|---|---|---|---|"]  # fmt: skip
    for m, v in SEED004_TABLE6.items():
        lines.append(f"| {m} | " + " | ".join(f"{x:.2f}" for x in v) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    args = sys.argv[1:]
    res = args[0] if args else "docs/results/issue-13/zero-shot"
    if "--compact" in args:  # the table in docs/methods.md
        sys.stdout.write(compact(res))
        sys.exit(0)
    if "--from-runs" in args:
        runs = Path(args[args.index("--from-runs") + 1])
        for d in sorted(Path(res).iterdir()):
            if (runs / d.name / "analysis").is_dir():
                write_signed_errors(runs / d.name, d / "signed_error.json")
    sys.stdout.write(main(res))
