"""Markdown tables of a run: mean ± std per region for each method, with the change against
vanilla (ce in a classification run; a benchmark's ``results.md``)."""

from __future__ import annotations

import numpy as np

from ..metrics import LOWER_IS_BETTER, REGION_COLUMNS, region_counts
from .runs import format_mean_std, format_paired, paired_differences, summarise

#: the full model that method variants (``latentdiff[ratio=0.4]``, ``--grid table2``) are
#: compared with, seed by seed
FULL_MODEL = "latentdiff"


def metric_table(s: dict, methods: list[str], metric: str, level: str = "##", suffix: str = ""):
    """Heading and mean ± std rows of one metric per region (``s`` from :func:`summarise`)."""
    arrow = "lower is better" if LOWER_IS_BETTER[metric] else "higher is better"
    lines = [
        f"{level} {metric.upper()} ({arrow})",
        "",
        "| method | " + " | ".join(REGION_COLUMNS) + " |",
        "|---" * (len(REGION_COLUMNS) + 1) + "|",
    ]
    for m in methods:
        cells = [format_mean_std(s.get((m, metric, r))) for r in REGION_COLUMNS]
        lines.append(f"| {m}{suffix} | " + " | ".join(cells) + " |")
    return lines


def _change_row(s: dict, method: str, metric: str, baseline: str = "vanilla") -> str:
    """Relative change of the mean error against ``baseline``; absolute change of correlations,
    R^2, accuracy and macro-F1 (which can sit near 0, or are fractions already)."""
    cells = []
    for r in REGION_COLUMNS:
        a, b = s.get((baseline, metric, r)), s.get((method, metric, r))
        if not a or not b or (LOWER_IS_BETTER[metric] and np.mean(a) == 0):
            cells.append("n/a")
        elif LOWER_IS_BETTER[metric]:
            cells.append(f"{(np.mean(b) - np.mean(a)) / abs(np.mean(a)) * 100:+.1f} %")
        else:
            cells.append(f"{np.mean(b) - np.mean(a):+.4f}")
    return f"| {method} vs {baseline} | " + " | ".join(cells) + " |"


def ablation_rows(records: list[dict], methods: list[str], metric: str) -> list[str]:
    """Where the run holds method variants (``latentdiff[ratio=0.4]``) and the full model: every
    LatentDiff-family method minus the full model, paired by seed (mean ± std over seeds, the
    change relative to the full model's mean, and the seeds in favour of the method)."""
    if FULL_MODEL not in methods or not any("[" in m for m in methods):
        return []
    s = summarise(records)
    others = [m for m in methods if m not in (FULL_MODEL, "vanilla")]
    lines = [
        f"### {metric.upper()}: paired differences against the full model ({FULL_MODEL})",
        "",
        "| method minus full model | " + " | ".join(REGION_COLUMNS) + " |",
        "|---" * (len(REGION_COLUMNS) + 1) + "|",
    ]
    for m in others:
        cells = []
        for r in REGION_COLUMNS:
            full = s.get((FULL_MODEL, metric, r))
            d, better = paired_differences(records, metric, r, m, FULL_MODEL)
            cells.append(format_paired(d, better, np.mean(full) if full else None))
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def results_table(records: list[dict], runs: list[dict], dataset, table_metrics) -> str:
    """The markdown of ``results.md``: mean ± std per region, the change against vanilla,
    runtimes, the synthetic features accepted, and the failed runs."""
    from ..zeroshot import region_labels

    counts = region_counts(region_labels(dataset, dataset.test.y))  # zero-shot rows apart
    description = (
        f"Shot regions: {dataset.regions.description}. Test samples: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + "."
    )
    note = (
        "Wall seconds per seed; the vanilla network's training is counted once, under vanilla,\n"
        "and not again under the methods that build on it."
    )
    extra = zero_shot_tables(summarise(records), list(dict.fromkeys(r["method"] for r in records)),
                             table_metrics, dataset)  # fmt: skip
    return run_tables(records, runs, dataset.name, description, table_metrics, note, extra=extra)


def run_tables(records: list[dict], runs: list[dict], name: str, description: str,
               table_metrics, runtime_note: str, baseline: str = "vanilla",
               extra=()) -> str:  # fmt: skip
    """``results.md`` of either task: a title (``name``) and ``description`` line, mean ± std
    per region of each metric, each method's change against ``baseline`` (vanilla; ce for the
    classification task), the ``extra`` lines (a zero-shot run's tables), runtimes with
    ``runtime_note``, synthetic features, failed runs."""
    s = summarise(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    lines = [f"# {name}: test split, mean ± std over seeds {seeds}", "", description, ""]
    for metric in table_metrics:
        lines += metric_table(s, methods, metric)
        if baseline in methods:
            lines += [_change_row(s, m, metric, baseline) for m in methods if m != baseline]
        lines.append("")
        lines += ablation_rows(records, methods, metric)
    lines += list(extra)
    lines += [
        "## Runtime and generation",
        "",
        runtime_note,
        "",
        "| method | seconds per seed | synthetic accepted / requested |",
        "|---|---|---|",
    ]
    for m in methods:
        rs = [r for r in runs if r["method"] == m and "error" not in r]
        acc = "-"
        if rs and "acceptance_rate" in rs[0]:
            got = np.mean([r["n_synthetic_accepted"] for r in rs])
            acc = f"{got:.0f} / {np.mean([r['n_synthetic_requested'] for r in rs]):.0f}"
        lines.append(f"| {m} | {format_mean_std([r['seconds'] for r in rs])} | {acc} |")
    failed = [r for r in runs if "error" in r]
    if failed:
        lines += ["", "## Failed runs", ""]
        lines += [f"* {r['method']}, seed {r['seed']}: {r['error']}" for r in failed]
    return "\n".join(lines) + "\n"


def zero_shot_tables(s: dict, methods: list[str], table_metrics, dataset) -> list[str]:
    """With zero-shot ranges (:mod:`latentdiff.zeroshot`): mean ± std of each metric on the
    regions ``with-data``, ``zero-shot-interp`` and ``zero-shot-extrap`` (seed 004's Table 6
    columns beside ``all``); nothing otherwise."""
    zs = getattr(dataset, "zero_shot", None)
    if zs is None:
        return []
    from ..zeroshot import ZERO_SHOT_REGIONS

    counts = dataset.zero_shot_summary()["test_region_counts"]
    cols = ("all", *ZERO_SHOT_REGIONS)
    lines = [
        f"## Zero-shot regions ({zs.spec})",
        "",
        "Training and validation rows in the ranges were removed; test rows: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + ". Many / medium / few above hold rows with training data only.",
        "",
    ]
    for metric in table_metrics:
        lines += [f"### {metric.upper()}", "", "| method | " + " | ".join(cols) + " |",
                  "|---" * (len(cols) + 1) + "|"]  # fmt: skip
        for m in methods:
            cells = [format_mean_std(s.get((m, metric, r))) for r in cols]
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines
