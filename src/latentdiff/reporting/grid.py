"""The Table-1-shaped report of a ``latentdiff bench --grid table1`` run: mean ± std per method
and region for the data set's two table metrics with the seconds per seed, the papers' figures,
who wins each region and by how much (paired per-seed differences against the runner-up and
against vanilla), the goal line, and seed 000's Table 3 (SMOTER / SMOGN vs LatentDiff) and
Table 11 (LatentGAN vs LatentDiff) comparisons."""

from __future__ import annotations

import numpy as np

from ..metrics import LOWER_IS_BETTER, REGION_COLUMNS
from .published import published
from .runs import Run, format_mean_std, heading, paired, ranking, summarise


def _is_latentdiff(m: str) -> bool:
    return "latentdiff" in m.split("+")


def _main_table(run: Run, s: dict, metrics) -> list[str]:
    secs = {m: [r["seconds"] for r in run.runs if r["method"] == m and "seconds" in r]
            for m in run.methods}  # fmt: skip
    head = "| method | " + " | ".join(f"{m.upper()} {r}" for m in metrics
                                      for r in REGION_COLUMNS) + " |"  # fmt: skip
    lines = [head + " seconds |", "|---" * (len(metrics) * 4 + 2) + "|"]
    best = {}
    for m in metrics:
        for r in REGION_COLUMNS:
            rk = ranking(s, run.methods, m, r)
            if rk:
                best[(m, r)] = rk[0][0]
    for meth in run.methods:
        cells = []
        for m in metrics:
            for r in REGION_COLUMNS:
                c = format_mean_std(s.get((meth, m, r)))
                cells.append(f"**{c}**" if best.get((m, r)) == meth else c)
        lines.append(f"| {meth} | " + " | ".join(cells) + f" | {format_mean_std(secs[meth])} |")
    lines += ["", "Bold: best mean in the column."]
    paper = {m: published(run.dataset, m) for m in metrics}
    if any(paper.values()):
        lines += ["", "The papers' figures (seed 000 Table 1; rows marked 004: seed 004 Table 3), "
                  "their encoders and hardware:", "", head,
                  "|---" * (len(metrics) * 4 + 1) + "|"]  # fmt: skip
        for label in dict.fromkeys(k for m in metrics for k in paper[m]):
            cells = []
            for m in metrics:
                cells += ["—" if v is None else f"{v:.3f}" for v in paper[m].get(label, [None] * 4)]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _winners(run: Run, s: dict, metrics) -> list[str]:
    lines = ["", "### Who wins each region", "",
             "| metric, region | best (mean) | runner-up | best − runner-up, paired | "
             "best − vanilla, paired |", "|---|---|---|---|---|"]  # fmt: skip
    for m in metrics:
        for r in REGION_COLUMNS:
            rk = ranking(s, run.methods, m, r)
            if len(rk) < 2:
                continue
            (b, bv), (ru, rv) = rk[0], rk[1]
            v0 = np.mean(s[("vanilla", m, r)]) if s.get(("vanilla", m, r)) else None
            rel = v0 if LOWER_IS_BETTER[m] else None
            vs_vanilla = paired(run.records, m, r, b, "vanilla", rel) if b != "vanilla" else "—"
            lines.append(f"| {m.upper()} {r} | {b} ({bv:.4f}) | {ru} ({rv:.4f}) | "
                         f"{paired(run.records, m, r, b, ru)} | {vs_vanilla} |")  # fmt: skip
    err = metrics[0]
    rk = ranking(s, run.methods, err, "few")
    if rk:
        top_ld = next((m for m, _ in rk if _is_latentdiff(m)), None)
        if _is_latentdiff(rk[0][0]):
            verdict = f"met — {rk[0][0]} is best ({rk[0][1]:.4f})."
        elif top_ld:
            pos = [m for m, _ in rk].index(top_ld) + 1
            verdict = (f"**not met** — best is {rk[0][0]} ({rk[0][1]:.4f}); the best LatentDiff "
                       f"variant, {top_ld}, ranks {pos} of {len(rk)}.")  # fmt: skip
        else:
            verdict = "no LatentDiff variant in this run."
        lines += ["", f"**Goal** (LatentDiff or a LatentDiff combination best few-shot "
                  f"{err.upper()}): {verdict}"]  # fmt: skip
    return lines


def _comparisons(run: Run, metrics) -> list[str]:
    lines = []
    for title, pairs in (
        ("Table 3 of seed 000: SMOTER / SMOGN vs LatentDiff",
         [("latentdiff", "smoter"), ("latentdiff", "smogn")]),
        ("Table 11 of seed 000: LatentGAN vs LatentDiff", [("latentdiff", "latentgan")]),
    ):  # fmt: skip
        have = [(a, b) for a, b in pairs if a in run.methods and b in run.methods]
        if not have:
            continue
        cols = " | ".join(f"{m.upper()} {r}" for m in metrics for r in REGION_COLUMNS)
        lines += ["", f"### {title}", "", "Paired per-seed differences (negative MSE: the first "
                  "method is better), mean ± std (seeds in its favour).", "",
                  f"| comparison | {cols} |", "|---" * (len(metrics) * 4 + 1) + "|"]  # fmt: skip
        for a, b in have:
            cells = [paired(run.records, m, r, a, b) for m in metrics for r in REGION_COLUMNS]
            lines.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
    return lines


def grid_section(run: Run) -> str:
    metrics = run.bench["table_metrics"]
    s = summarise(run.records)
    lines = heading(
        run,
        "mean ± std over seeds (sample std). Seconds: wall seconds per seed on this machine in "
        "this run; a network shared by several methods (``lds`` and ``latentdiff+lds``) is "
        "counted once, under the method that is that network.",
    )
    lines += _main_table(run, s, metrics) + _winners(run, s, metrics) + _comparisons(run, metrics)
    failed = [r for r in run.runs if "error" in r]
    if failed:
        lines += ["", "Failed runs (no result):", ""]
        lines += [f"* {r['method']}, seed {r['seed']}: {r['error']}" for r in failed]
    return "\n".join(lines) + "\n"
