"""A method against its vanilla network, in detail: mean ± std per region beside the papers'
figures, paired per-seed differences, the goal line, the quality gate's acceptance per
generation bin and the runtimes (one run directory, one section of ``docs/benchmarks.md``)."""

from __future__ import annotations

import numpy as np

from ..metrics import REGION_COLUMNS
from .published import paper_table, published
from .runs import Run, heading, paired, summarise
from .tables import metric_table

#: the goal of issue 2: few-shot error at least this much below vanilla, all-shot no worse
GOALS = {"stsb-dir": 0.09, "california-housing": 0.11}


def _paper_rows(dataset: str, metric: str) -> list[str]:
    """Seed 000's vanilla and LatentDiff rows (and seed 004's vanilla) for the detail tables."""
    figures, table = published(dataset, metric), paper_table(dataset)
    labels = {
        "vanilla": f"vanilla (seed 000, {table})",
        "latentdiff": f"latentdiff (seed 000, {table})",
        "vanilla (004)": "vanilla (seed 004, Table 3)",
    }
    return [
        f"| {label} | " + " | ".join("—" if v is None else f"{v:.4f}" for v in figures[key]) + " |"
        for key, label in labels.items()
        if key in figures
    ]


def _goal_lines(run: Run, s: dict, err_metric: str) -> list[str]:
    goal = GOALS.get(run.dataset)
    lines = []
    for m in run.methods:
        if not m.startswith("latentdiff") or goal is None:  # the goal is LatentDiff's
            continue
        v_few, m_few = s.get(("vanilla", err_metric, "few")), s.get((m, err_metric, "few"))
        v_all, m_all = s.get(("vanilla", err_metric, "all")), s.get((m, err_metric, "all"))
        if v_few and m_few and v_all and m_all:
            few = (np.mean(m_few) - np.mean(v_few)) / np.mean(v_few) * 100
            al = (np.mean(m_all) - np.mean(v_all)) / np.mean(v_all) * 100
            met = few <= -goal * 100 and al <= 0
            lines += [
                f"**Goal** ({m}): few-shot {err_metric.upper()} at least {goal:.0%} below vanilla "
                f"with all-shot no worse. Measured: few {few:+.1f} %, all {al:+.1f} % — "
                + ("met." if met else "**not met**."),
                "",
            ]
    return lines


def section(run: Run) -> str:
    bench = run.bench
    s = summarise(run.records)
    sampler, head = bench.get("sampler") or {}, bench.get("head") or {}
    lines = heading(run, "mean ± std (sample std over seeds).")
    if sampler:
        lines += [
            "LatentDiff settings: "
            + ", ".join(f"{k} {v}" for k, v in sampler.items() if not isinstance(v, dict))
            + f"; head: mix {head.get('mix_schedule')}, synthetic weight "
            f"{head.get('synthetic_weight')}.",
            "",
        ]
    base = run.baseline
    for metric in bench["table_metrics"]:
        lines += metric_table(s, run.methods, metric, level="###", suffix=" (ours)")
        if run.task == "regression":
            lines += _paper_rows(run.dataset, metric)
        for m in run.methods:
            if m != base and base in run.methods:
                cells = [paired(run.records, metric, r, m, base) for r in REGION_COLUMNS]
                lines.append(f"| {m} − {base}, paired | " + " | ".join(cells) + " |")
        lines.append("")
    metrics = bench["table_metrics"]
    lines += _goal_lines(run, s, "mse" if "mse" in metrics else metrics[0])
    ld = [r for r in run.runs if "acceptance_rate" in r]
    if ld:
        acc = [r["acceptance_rate"] for r in ld if r["acceptance_rate"] is not None]
        acc_sd = np.std(acc, ddof=1) if len(acc) > 1 else 0.0
        lines += [
            "Quality gate: accepted "
            f"{np.mean([r['n_synthetic_accepted'] for r in ld]):.0f} of "
            f"{np.mean([r['n_synthetic_requested'] for r in ld]):.0f} requested synthetic features "
            f"per seed (acceptance {np.mean(acc):.1%} ± {acc_sd:.1%}).",
            "",
            _acceptance_by_bin(ld),
            "",
        ]
    per_method = {m: [r["seconds"] for r in run.runs if r["method"] == m and "seconds" in r]
                  for m in run.methods}  # fmt: skip
    seconds = ", ".join(f"{m} {np.mean(v):.0f} s" for m, v in per_method.items())
    shared = ("a shared part (stage 1, a generator) is counted once, under the first method "
              "that needs it" if run.task == "classification"
              else "the vanilla training is counted once, under vanilla")  # fmt: skip
    lines += [f"Wall seconds per seed (this machine, same run): {seconds} ({shared}).", ""]
    return "\n".join(lines)


def _acceptance_by_bin(ld_runs: list[dict]) -> str:
    """Per generation bin, means over seeds: real count, requested and accepted synthetic
    features, and the predictions that show whether synthetic features carry their label."""
    keys = ("n_real", "requested", "accepted", "vanilla_on_real", "vanilla_on_synthetic",
            "retrained_on_real")  # fmt: skip
    bins: dict = {}
    for r in ld_runs:
        for b in r["per_bin"]:
            e = bins.setdefault(b["bin"], {"center": b["center"], **{k: [] for k in keys}})
            for k in keys:
                if b.get(k) is not None:
                    e[k].append(b[k])
    rows = [
        "| bin centre | real | requested | accepted | vanilla head on real | vanilla head on "
        "synthetic | retrained head on real |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in sorted(bins):
        e = bins[k]
        cells = [f"{np.mean(e[c]):.0f}" if e[c] else "-" for c in keys[:3]]
        cells += [f"{np.mean(e[c]):.3g}" if e[c] else "-" for c in keys[3:]]
        rows.append(f"| {e['center']:.4g} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
