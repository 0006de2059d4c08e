"""Summary of the zero-shot runs (scripts/issue13-zero-shot.sh): for each data set under RES,
mean ± std per region of each table metric, paired differences against vanilla and
latentdiff-fill against latentdiff, and what latentdiff-fill generated in the gap bins; seed 004's
Table 6 (IMDB-WIKI-DIR, MAE) beside them for reference.

    python scripts/issue13_zero_shot_table.py docs/results/issue-13/zero-shot > summary.md
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
        lines += [f"latentdiff-fill generated in the gap: {fill}; latentdiff: {plain}.", ""]
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
    sys.stdout.write(main(sys.argv[1] if len(sys.argv) > 1 else "docs/results/issue-13/zero-shot"))
