"""``docs/benchmarks.md`` from benchmark output directories, with the papers' figures beside ours.

    python -m latentdiff.report [--grid GRID_DIR ...] OUT_DIR [OUT_DIR ...] [--notes FILE] \
        > docs/benchmarks.md

``--grid`` directories are ``latentdiff bench --grid table1`` runs, reported Table-1-shaped
(:mod:`latentdiff.report_grid`); the others in detail against vanilla.

Each OUT_DIR is a ``latentdiff bench`` output (``results.json``, ``runs.json``, ``config.json``).
Nothing here is measured: it only reads what the benchmark wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from .bench import REGION_COLUMNS, metric_table, summarise
from .metrics import LOWER_IS_BETTER
from .report_grid import PAPER as PUBLISHED

#: Published figures beside the vanilla-vs-LatentDiff sections: those of
#: :data:`latentdiff.report_grid.PAPER` (the one place the papers' numbers are written).
_TABLE = {"stsb-dir": "Table 1c", "california-housing": "Table 1d"}
PAPER = {
    key: {
        **{
            f"{m} (seed 000, {_TABLE[key[0]]})": figures[m]
            for m in ("vanilla", "latentdiff")
            if m in figures
        },
        **(
            {"vanilla (seed 004, Table 3)": figures["vanilla (004)"]}
            if "vanilla (004)" in figures
            else {}
        ),
    }
    for key, figures in PUBLISHED.items()
}

#: The issue's goal: few-shot error at least this much below vanilla, all-shot no worse.
GOALS = {"stsb-dir": 0.09, "california-housing": 0.11}


def _load(d: Path) -> tuple[list, list, dict]:
    return (
        json.loads((d / "results.json").read_text()),
        json.loads((d / "runs.json").read_text()),
        json.loads((d / "config.json").read_text()),
    )


def paired(records: list[dict], metric: str, region: str, method: str) -> str:
    """Per-seed change of ``method`` against vanilla (same seed, same vanilla network)."""
    by = {(r["method"], r["seed"]): r["value"] for r in records
          if r["metric"] == metric and r["region"] == region}  # fmt: skip
    seeds = sorted(s for (m, s) in by if m == method and by.get(("vanilla", s)) is not None)
    d = np.array(
        [by[(method, s)] - by[("vanilla", s)] for s in seeds if by[(method, s)] is not None]
    )
    if d.size == 0:
        return "n/a"
    better = int(np.sum(d < 0) if LOWER_IS_BETTER[metric] else np.sum(d > 0))
    sd = d.std(ddof=1) if d.size > 1 else 0.0
    return f"{d.mean():+.4f} ± {sd:.4f} ({better}/{d.size} seeds better)"


def section(d: Path) -> str:
    records, runs, config = _load(d)
    bench = config["bench"]
    name = bench["dataset"]
    s = summarise(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    summ = config["dataset_summary"]
    seeds = sorted({r["seed"] for r in records})
    lines = [
        f"## {name}, encoder `{config['encoder_name']}` (`{d.name}`)",
        "",
        f"{summ['n_train']} train / {summ['n_val']} val / {summ['n_test']} test; shot regions: "
        f"{summ['regions']}; test samples per region: "
        + ", ".join(f"{k} {v}" for k, v in summ["test_region_counts"].items())
        + f". Seeds {seeds}; mean ± std (sample std over seeds).",
        "",
        "LatentDiff settings: "
        + ", ".join(f"{k} {v}" for k, v in bench["sampler"].items() if k != "progress")
        + f"; head: mix {bench['head']['mix_schedule']}, synthetic weight "
        f"{bench['head']['synthetic_weight']}.",
        "",
    ]
    for metric in bench["table_metrics"]:
        lines += metric_table(s, methods, metric, level="###", suffix=" (ours)")
        for label, vals in PAPER.get((name, metric), {}).items():
            lines.append(
                f"| {label} | " + " | ".join("—" if v is None else f"{v:.4f}" for v in vals) + " |"
            )
        for m in methods:
            if m != "vanilla" and "vanilla" in methods:
                lines.append(
                    f"| {m} − vanilla, paired | "
                    + " | ".join(paired(records, metric, r, m) for r in REGION_COLUMNS)
                    + " |"
                )
        lines.append("")
    goal = GOALS.get(name)
    err_metric = "mse" if "mse" in bench["table_metrics"] else bench["table_metrics"][0]
    for m in methods:
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
    ld = [r for r in runs if "acceptance_rate" in r]
    if ld:
        acc = [r["acceptance_rate"] for r in ld if r["acceptance_rate"] is not None]
        acc_sd = np.std(acc, ddof=1) if len(acc) > 1 else 0.0
        lines += [
            "Quality gate: accepted "
            f"{np.mean([r['n_synthetic_accepted'] for r in ld]):.0f} of "
            f"{np.mean([r['n_synthetic_requested'] for r in ld]):.0f} requested synthetic features "
            f"per seed (acceptance {np.mean(acc):.1%} ± {acc_sd:.1%}).",
            "",
            _acceptance_by_region(ld),
            "",
        ]
    lines += ["Wall seconds per seed (this machine, same run): "
              + ", ".join(f"{m} {np.mean([r['seconds'] for r in runs if r['method'] == m]):.0f} s"
                          for m in methods)
              + " (the vanilla training is counted once, under vanilla).", ""]  # fmt: skip
    return "\n".join(lines)


def _acceptance_by_region(ld_runs: list[dict]) -> str:
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


HEADER = """# Benchmarks

Regenerated by `bash scripts/benchmarks.sh` ({minutes} on 2 CPU cores).
Every figure below was measured in that run on this project's CPU machine; the papers' figures
(their encoders and GPUs) are printed beside ours for reference, not as a like-for-like
comparison. `retrain-head` is LatentDiff's stage 7 with no synthetic feature: the control that
separates what the synthetic features add from what retraining the head adds.

"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    notes, grids = None, []
    while "--notes" in argv or "--grid" in argv:
        flag = "--notes" if "--notes" in argv else "--grid"
        i = argv.index(flag)
        if i + 1 >= len(argv):
            print(f"{flag} needs a path", file=sys.stderr)
            return 2
        if flag == "--notes":
            notes = Path(argv[i + 1])
        else:
            grids.append(Path(argv[i + 1]))
        argv = argv[:i] + argv[i + 2 :]
    if not argv and not grids:
        print(__doc__, file=sys.stderr)
        return 2
    dirs = [Path(d) for d in argv]
    secs = sum(r.get("seconds", 0.0) for d in [*grids, *dirs] for r in _load(d)[1])
    print(HEADER.format(minutes=f"{secs / 60:.0f} minutes of training and generation"))
    if grids:
        from .report_grid import grid_section

        print(GRID_HEADER)
        print("\n".join(grid_section(d) for d in grids))
    if dirs:
        print("# LatentDiff against its vanilla network, in detail\n")
        print("\n".join(section(d) for d in dirs))
    if notes is not None:
        print(notes.read_text())
    return 0


GRID_HEADER = """# Table 1: every method side by side

`latentdiff bench --grid table1` on each data set: every method of seed 000's Table 1 and seed
004's baselines, on the same encoder, split and seeds, with the runtime of each method from the
same run. Where each method acts is in `docs/methods.md`.
"""


if __name__ == "__main__":
    sys.exit(main())
