"""Seed 000's Table 2 beside ours: the paired differences against the full model of the
``latentdiff bench --grid table2`` runs committed under docs/results/issue-13/ablations/, one
table per data set, with the paper's IMDB-WIKI-DIR MAE figures beside them.

    python scripts/issue13_ablations.py docs/results/issue-13/ablations > .../summary.md
    python scripts/issue13_ablations.py --short docs/results/issue-13/ablations  # methods.md

Every number of ours is computed here from the committed results.json; the paper's are typed
from seed 000 (Table 2 a-c, Table 11 for LatentGAN, Table 1 for vanilla), one run each.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REGIONS = ("all", "many", "medium", "few")
FULL = "latentdiff"

#: seed 000, IMDB-WIKI-DIR MAE (all, many, medium, few): the full model (Table 2) and each row
PAPER_FULL = (7.43, 7.24, 11.81, 9.83)
PAPER = {
    "vanilla": (7.83, 7.44, 15.22, 18.21),  # Table 1
    "latentgan": (8.56, 8.20, 15.70, 17.97),  # Table 11
    "schedule": (7.31, 7.15, 10.98, 9.25),
    "ema": (7.35, 7.19, 10.93, 9.75),
    "epsilon": (7.27, 7.10, 10.96, 10.15),
    "weighting": (7.19, 7.01, 11.07, 10.33),
    "uniform": (7.30, 7.04, 12.10, 14.57),
    "ratio=0.4": (7.180, 7.028, 10.851, 8.943),
    "ratio=0.6": (7.206, 7.035, 11.005, 10.255),
    "ratio=0.8": (7.224, 7.093, 10.405, 8.745),
    "ratio=0.9": (7.333, 7.172, 11.004, 9.909),
    "lambda=0.3": (7.383, 7.213, 11.073, 10.606),
    "lambda=0.5": (7.324, 7.162, 11.074, 9.735),
    "lambda=0.9": (7.337, 7.175, 11.267, 9.241),
}

#: (Table 2's row, method a, method b, key of the paper's row): ours is a - b per seed
ROWS = [
    ("Vanilla (no generation)", "vanilla", FULL, "vanilla"),
    ("Generator: LatentGAN", "latentgan", FULL, "latentgan"),
    ("Generator: per-bin Gaussian", "latentdiff-gaussian", FULL, None),
    ("Generator: in-bin interpolation", "latentdiff-interp", FULL, None),
    ("Linear schedule", "latentdiff[schedule=linear]", FULL, "schedule"),
    ("No EMA", "latentdiff[use_ema=false]", FULL, "ema"),
    ("Noise (epsilon) prediction", "latentdiff[prediction=epsilon]", FULL, "epsilon"),
    # our full model has no sample weighting: the paper's row is "without minus with"
    ("No sample weighting (ours: full minus priority weighting)", FULL,
     "latentdiff[sample_weighting=priority]", "weighting"),
    ("Uniform generation (20%)", "latentdiff[allocation=uniform]", FULL, "uniform"),
    *[(f"Ratio {int(r * 100)}%", f"latentdiff[ratio={r}]", FULL, f"ratio={r}")
      for r in (0.4, 0.6, 0.8, 0.9)],
    *[(f"lambda = {w}", f"latentdiff[priority_weight={w}]", FULL, f"lambda={w}")
      for w in (0.3, 0.5, 0.9)],
    ("Gate off", "latentdiff[gate=false]", FULL, None),
    ("Gate q = 0.9", "latentdiff[quantile=0.9]", FULL, None),
    ("Gate q = 0.99", "latentdiff[quantile=0.99]", FULL, None),
]  # fmt: skip


def _values(records, metric):
    """{(method, seed, region): value}"""
    return {(r["method"], r["seed"], r["region"]): r["value"] for r in records
            if r["metric"] == metric and r["value"] is not None}  # fmt: skip


def _ours(v, seeds, a, b, region, full_mean):
    d = np.array([v[(a, s, region)] - v[(b, s, region)] for s in seeds
                  if (a, s, region) in v and (b, s, region) in v])  # fmt: skip
    if d.size == 0:
        return "n/a"
    sd = f" ± {d.std(ddof=1):.4f}" if d.size > 1 else ""
    better = int(np.sum(d < 0))
    return f"{d.mean():+.4f}{sd} ({d.mean() / full_mean * 100:+.1f} %, {better}/{d.size})"


def _theirs(key, i):
    if key is None:
        return "-"
    d = PAPER[key][i] - PAPER_FULL[i]
    return f"{d:+.2f} ({d / PAPER_FULL[i] * 100:+.1f} %)"


def dataset_section(folder: Path) -> list[str]:
    config = json.loads((folder / "config.json").read_text())
    records = json.loads((folder / "results.json").read_text())
    metric = config["bench"]["table_metrics"][0]
    seeds = sorted({r["seed"] for r in records})
    v = _values(records, metric)
    summ = config["dataset_summary"]
    full, full_cells = {}, []
    for r in REGIONS:
        vals = np.array([v[(FULL, s, r)] for s in seeds if (FULL, s, r) in v])
        full[r] = vals.mean() if vals.size else np.nan
        full_cells.append("n/a" if not vals.size else f"{vals.mean():.4f}" if vals.size == 1
                          else f"{vals.mean():.4f} ± {vals.std(ddof=1):.4f}")  # fmt: skip
    lines = [
        f"## {summ['name']}, encoder `{config['encoder_name']}`: test {metric.upper()}",
        "",
        f"Seeds {seeds}; {summ['n_train']} train / {summ['n_test']} test rows; shot regions: "
        f"{summ['regions']}. Ours: method minus the full model, paired by seed, mean ± std over "
        f"the seeds (relative to the full model's mean; seeds where the row's method is lower). "
        f"Theirs: seed 000, IMDB-WIKI-DIR MAE, one run, the row minus their full model "
        f"(relative change).",
        "",
        "| Table 2 row | ours: "
        + " | ours: ".join(REGIONS)
        + " | theirs: "
        + " | theirs: ".join(REGIONS)
        + " |",
        "|---" * 9 + "|",
        f"| Full model (`{FULL}`): {metric.upper()} | "
        + " | ".join(full_cells)
        + " | "
        + " | ".join(f"{x:.2f}" for x in PAPER_FULL)
        + " |",
    ]
    for label, a, b, key in ROWS:
        ours = [_ours(v, seeds, a, b, r, full[r]) for r in REGIONS]
        theirs = [_theirs(key, i) for i in range(4)]
        lines.append(f"| {label} | " + " | ".join(ours) + " | " + " | ".join(theirs) + " |")
    return [*lines, ""]


#: the rows of the short table in docs/methods.md (``--short``)
SHORT = ("Vanilla (no generation)", "Generator: LatentGAN", "Generator: per-bin Gaussian",
         "Linear schedule", "No EMA", "Noise (epsilon) prediction",
         "No sample weighting (ours: full minus priority weighting)", "Uniform generation (20%)",
         "Ratio 80%", "lambda = 0.3", "Gate off")  # fmt: skip


def _short_cell(v, seeds, a, b, region, full_mean):
    d = np.array([v[(a, s, region)] - v[(b, s, region)] for s in seeds
                  if (a, s, region) in v and (b, s, region) in v])  # fmt: skip
    return f"{d.mean() / full_mean * 100:+.1f} % ({int(np.sum(d < 0))}/{d.size})"


def short_table(root: Path) -> str:
    """docs/methods.md's table: all and few-shot, relative, for California Housing and STS-B-DIR
    (MiniLM), and the paper's all / few."""
    sets = [root / "california-housing", root / "stsb-dir-minilm"]
    data = []
    for folder in sets:
        config = json.loads((folder / "config.json").read_text())
        records = json.loads((folder / "results.json").read_text())
        v = _values(records, config["bench"]["table_metrics"][0])
        seeds = sorted({r["seed"] for r in records})
        full = {r: np.mean([v[(FULL, s, r)] for s in seeds]) for r in ("all", "few")}
        data.append((v, seeds, full))
    lines = ["| row | California all | California few | STS-B-DIR all | STS-B-DIR few | "
             "seed 000 (MAE) all / few |", "|---" * 6 + "|"]  # fmt: skip
    for label, a, b, key in ROWS:
        if label not in SHORT:
            continue
        cells = [_short_cell(v, seeds, a, b, r, full[r]) for v, seeds, full in data
                 for r in ("all", "few")]  # fmt: skip
        theirs = (
            "-"
            if key is None
            else " / ".join(
                f"{(PAPER[key][i] - PAPER_FULL[i]) / PAPER_FULL[i] * 100:+.1f} %" for i in (0, 3)
            )
        )
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {theirs} |")
    return "\n".join(lines)


def main(root: str) -> str:
    root = Path(root)
    folders = [p for p in sorted(root.iterdir()) if (p / "results.json").is_file()]
    if not folders:
        raise SystemExit(f"{root}: no run folder with a results.json")
    lines = [
        "# Seed 000's Table 2 ablations on our data sets (issue 13, point 2)",
        "",
        "Generated by `python scripts/issue13_ablations.py docs/results/issue-13/ablations` "
        "from the committed result files; the runs: `bash scripts/issue13-ablations.sh` "
        "(`latentdiff bench --grid table2`, every method on its seed's one stage-1 network). "
        "Lower is better in every column. The paper's figures are another data set (face "
        "ages) and metric (MAE, years), so only signs and relative sizes compare.",
        "",
    ]
    for folder in folders:
        lines += dataset_section(folder)
    return "\n".join(lines)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--short"]
    root = args[0] if args else "docs/results/issue-13/ablations"
    print(short_table(Path(root)) if "--short" in sys.argv else main(root))
