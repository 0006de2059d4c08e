"""The Table-1-shaped report of a ``latentdiff bench --grid table1`` run.

    python -m latentdiff.report_grid OUT_DIR [OUT_DIR ...] > docs/table1.md

For each run: mean ± std over seeds per method and region (the two table metrics of the data
set), wall seconds per seed, the papers' figures beside ours, which method wins each region and
by how much (paired per-seed differences against vanilla and against the runner-up), and the
seed-000 Table 3 (SMOTER / SMOGN vs LatentDiff) and Table 11 (LatentGAN vs LatentDiff)
comparisons. It only reads what the benchmark wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .bench import REGION_COLUMNS, format_mean_std, summarise
from .metrics import LOWER_IS_BETTER

_V = tuple[float | None, float | None, float | None, float | None]

#: Published STS-B-DIR figures, all / many / medium / few (their BiLSTM + GloVe, their GPUs).
#: seed 000 Table 1c; seed 004 Table 3 (Pearson there in %, here as a fraction).
PAPER: dict[tuple[str, str], dict[str, _V]] = {
    ("stsb-dir", "mse"): {
        "vanilla": (0.932, 0.920, 0.938, 1.039),
        "fds": (0.975, 0.986, 0.820, 1.216),
        "lds": (0.939, 0.921, 0.995, 1.004),
        "fds+lds": (0.957, 0.948, 0.916, 1.141),
        "sqinv": (0.987, 0.939, 1.150, 1.102),
        "focal-r": (0.961, 0.942, 0.980, 1.116),
        "ranksim": (0.980, 0.924, 1.180, 1.097),
        "conr": (1.060, 1.072, 1.015, 1.036),
        "latentdiff": (0.880, 0.817, 1.127, 0.948),
        "latentdiff+sqinv": (0.888, 0.814, 1.191, 0.951),
        "latentdiff+fds": (0.878, 0.828, 1.039, 1.026),
        "latentdiff+focal-r": (0.910, 0.808, 1.303, 1.044),
        "latentdiff+lds": (0.881, 0.823, 1.098, 0.975),
        "latentdiff+fds+lds": (0.889, 0.848, 1.009, 1.040),
        "vanilla (004)": (0.974, 0.851, 1.520, 0.984),
        "smoter (004)": (1.046, 0.924, 1.542, 1.154),
        "smogn (004)": (0.990, 0.896, 1.327, 1.175),
        "rrt (004)": (0.964, 0.842, 1.503, 0.978),
        "inv (004)": (1.005, 0.894, 1.482, 1.046),
    },
    ("stsb-dir", "pearson"): {
        "vanilla": (0.766, 0.727, 0.724, 0.748),
        "fds": (0.751, 0.719, 0.714, 0.686),
        "lds": (0.762, 0.725, 0.711, 0.751),
        "fds+lds": (0.747, 0.713, 0.706, 0.706),
        "sqinv": (0.755, 0.722, 0.690, 0.736),
        "focal-r": (0.759, 0.723, 0.712, 0.729),
        "ranksim": (0.756, 0.726, 0.689, 0.732),
        "conr": (0.735, 0.682, 0.704, 0.745),
        "latentdiff": (0.770, 0.733, 0.721, 0.765),
        "latentdiff+sqinv": (0.770, 0.735, 0.711, 0.768),
        "latentdiff+fds": (0.765, 0.731, 0.728, 0.742),
        "latentdiff+focal-r": (0.766, 0.738, 0.697, 0.745),
        "latentdiff+lds": (0.767, 0.732, 0.721, 0.756),
        "latentdiff+fds+lds": (0.761, 0.725, 0.723, 0.735),
        "vanilla (004)": (0.742, 0.720, 0.627, 0.752),
        "smoter (004)": (0.726, 0.693, 0.653, 0.706),
        "smogn (004)": (0.732, 0.704, 0.655, 0.692),
        "rrt (004)": (0.745, 0.724, 0.623, 0.754),
        "inv (004)": (0.728, 0.703, 0.625, 0.732),
    },
    # seed 000 Table 1d gives only vanilla and LatentDiff (columns few / med / many there); the
    # all-shot 0.526 is from its sec. 4 text
    ("california-housing", "mse"): {
        "vanilla": (None, 0.1936, 0.4413, 0.6672),
        "latentdiff": (0.526, 0.1414, 0.4006, 0.5940),
    },
    ("california-housing", "r2"): {
        "vanilla": (None, 0.0939, 0.7450, -0.5833),
        "latentdiff": (None, 0.3381, 0.7685, -0.4095),
    },
}


def _load(d: Path):
    return tuple(json.loads((d / f).read_text()) for f in ("results.json", "runs.json",
                                                            "config.json"))  # fmt: skip


def _per_seed(records, metric, region) -> dict:
    keep = [r for r in records if r["metric"] == metric and r["region"] == region]
    return {(r["method"], r["seed"]): r["value"] for r in keep if r["value"] is not None}


def paired_diff(records, metric, region, a, b) -> tuple[np.ndarray, int]:
    """Per-seed ``a - b`` on the seeds both ran, and how many favour ``a``."""
    by = _per_seed(records, metric, region)
    seeds = sorted(s for (m, s) in by if m == a and (b, s) in by)
    d = np.array([by[(a, s)] - by[(b, s)] for s in seeds])
    better = int(np.sum(d < 0) if LOWER_IS_BETTER[metric] else np.sum(d > 0))
    return d, better


def _fmt_pair(d: np.ndarray, better: int, relative_to: float | None = None) -> str:
    if d.size == 0:
        return "n/a"
    sd = d.std(ddof=1) if d.size > 1 else 0.0
    rel = "" if not relative_to else f", {d.mean() / abs(relative_to) * 100:+.1f} %"
    return f"{d.mean():+.4f} ± {sd:.4f}{rel} ({better}/{d.size} seeds)"


def ranking(s: dict, methods: list[str], metric: str, region: str) -> list[tuple[str, float]]:
    """Methods by mean over seeds, best first."""
    vals = [(m, float(np.mean(s[(m, metric, region)]))) for m in methods
            if s.get((m, metric, region))]  # fmt: skip
    return sorted(vals, key=lambda t: t[1], reverse=not LOWER_IS_BETTER[metric])


def _is_latentdiff(m: str) -> bool:
    return "latentdiff" in m.split("+")


def grid_section(d: Path) -> str:
    records, runs, config = _load(d)
    bench, summ = config["bench"], config["dataset_summary"]
    name, metrics = bench["dataset"], bench["table_metrics"]
    s = summarise(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    secs = {m: [r["seconds"] for r in runs if r["method"] == m and "seconds" in r] for m in methods}
    lines = [
        f"## {name}, encoder `{config['encoder_name']}` (`{d.name}`)",
        "",
        f"{summ['n_train']} train / {summ['n_val']} val / {summ['n_test']} test; shot regions: "
        f"{summ['regions']}; test samples per region: "
        + ", ".join(f"{k} {v}" for k, v in summ["test_region_counts"].items())
        + f". Seeds {seeds}, mean ± std over seeds (sample std). Seconds: wall seconds per seed "
        "on this machine in this run; a network shared by several methods (``lds`` and "
        "``latentdiff+lds``) is counted once, under the method that is that network.",
        "",
    ]
    head = "| method | " + " | ".join(f"{m.upper()} {r}" for m in metrics
                                      for r in REGION_COLUMNS) + " | seconds |"  # fmt: skip
    lines += [head, "|---" * (len(metrics) * 4 + 2) + "|"]
    best = {(m, r): ranking(s, methods, m, r)[0][0] for m in metrics for r in REGION_COLUMNS
            if ranking(s, methods, m, r)}  # fmt: skip
    for meth in methods:
        cells = []
        for m in metrics:
            for r in REGION_COLUMNS:
                c = format_mean_std(s.get((meth, m, r)))
                cells.append(f"**{c}**" if best.get((m, r)) == meth else c)
        lines.append(f"| {meth} | " + " | ".join(cells) + f" | {format_mean_std(secs[meth])} |")
    lines += ["", "Bold: best mean in the column."]
    paper = {m: PAPER.get((name, m), {}) for m in metrics}
    if any(paper.values()):
        labels = list(dict.fromkeys(k for m in metrics for k in paper[m]))
        lines += ["", "The papers' figures (seed 000 Table 1; rows marked 004: seed 004 Table 3), "
                  "their encoders and hardware:", "", head.replace(" | seconds |", " |"),
                  "|---" * (len(metrics) * 4 + 1) + "|"]  # fmt: skip
        for lab in labels:
            cells = []
            for m in metrics:
                vals = paper[m].get(lab, (None,) * 4)
                cells += ["—" if v is None else f"{v:.3f}" for v in vals]
            lines.append(f"| {lab} | " + " | ".join(cells) + " |")
    lines += ["", "### Who wins each region", ""]
    lines += ["| metric, region | best (mean) | runner-up | best − runner-up, paired | "
              "best − vanilla, paired |", "|---|---|---|---|---|"]  # fmt: skip
    for m in metrics:
        for r in REGION_COLUMNS:
            rk = ranking(s, methods, m, r)
            if len(rk) < 2:
                continue
            (b, bv), (ru, rv) = rk[0], rk[1]
            d1, k1 = paired_diff(records, m, r, b, ru)
            v0 = np.mean(s[("vanilla", m, r)]) if s.get(("vanilla", m, r)) else None
            d2, k2 = (
                paired_diff(records, m, r, b, "vanilla") if b != "vanilla" else (np.array([]), 0)
            )
            rel = v0 if LOWER_IS_BETTER[m] else None
            lines.append(
                f"| {m.upper()} {r} | {b} ({bv:.4f}) | {ru} ({rv:.4f}) | {_fmt_pair(d1, k1)} | "
                f"{_fmt_pair(d2, k2, rel) if b != 'vanilla' else '—'} |"
            )
    err = metrics[0]
    rk = ranking(s, methods, err, "few")
    if rk:
        top_ld = next((m for m, _ in rk if _is_latentdiff(m)), None)
        pos = [m for m, _ in rk].index(top_ld) + 1 if top_ld else None
        lines += [
            "",
            f"**Goal** (LatentDiff or a LatentDiff combination best few-shot {err.upper()}): "
            + (
                f"met — {rk[0][0]} is best ({rk[0][1]:.4f})."
                if _is_latentdiff(rk[0][0])
                else f"**not met** — best is {rk[0][0]} ({rk[0][1]:.4f}); the best LatentDiff "
                f"variant, {top_ld}, ranks {pos} of {len(rk)}."
                if top_ld
                else "no LatentDiff variant in this run."
            ),
        ]
    for title, pairs in (
        ("Table 3 of seed 000: SMOTER / SMOGN vs LatentDiff",
         [("latentdiff", "smoter"), ("latentdiff", "smogn")]),
        ("Table 11 of seed 000: LatentGAN vs LatentDiff", [("latentdiff", "latentgan")]),
    ):  # fmt: skip
        have = [(a, b) for a, b in pairs if a in methods and b in methods]
        if not have:
            continue
        lines += ["", f"### {title}", "", "Paired per-seed differences (negative MSE: the first "
                  "method is better), mean ± std (seeds in its favour).", "",
                  "| comparison | " + " | ".join(f"{m.upper()} {r}" for m in metrics
                                                  for r in REGION_COLUMNS) + " |",
                  "|---" * (len(metrics) * 4 + 1) + "|"]  # fmt: skip
        for a, b in have:
            cells = [_fmt_pair(*paired_diff(records, m, r, a, b)) for m in metrics
                     for r in REGION_COLUMNS]  # fmt: skip
            lines.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
    failed = [r for r in runs if "error" in r]
    if failed:
        lines += ["", "Failed runs (no result):", ""]
        lines += [f"* {r['method']}, seed {r['seed']}: {r['error']}" for r in failed]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(grid_section(Path(d)) for d in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
