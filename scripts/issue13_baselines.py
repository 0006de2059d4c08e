"""Summary of issue 13's baseline runs (scripts/issue13-baselines.sh): one table per group of runs,
from the committed result files only.

    python scripts/issue13_baselines.py docs/results/issue-13/baselines > .../summary.md

For every run and method: the headline metric (the run's table metric: MSE on California and
STS-B-DIR, MAE on the suite's tables) on all / many / few test samples, mean ± std over seeds;
the bin-averaged ("balanced") test error, the mean of the per-bin errors of runs.json (the
error a label-balanced test set would give, what Balanced MSE optimises for); the paired
difference to vanilla of the same run on all samples (seeds where the method is better); the
best epoch; for Balanced MSE the learnt sigma in label stds (start -> end).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_files import load, mean_sd  # noqa: E402


def _balanced(entry: dict, metric: str) -> float | None:
    per_bin = entry.get("test_per_bin", {}).get(metric)
    vals = [v for v in per_bin or [] if v is not None]
    return statistics.fmean(vals) if vals else None


def _label_std(runs: list[dict]) -> float | None:
    """The training label std Balanced MSE's hooks recorded (None: no Balanced MSE here)."""
    return next((e[k] for e in runs for k in e if k.endswith("_label_std")), None)


def table(run: Path) -> list[str]:
    config, metric, runs, value, _ = load(run)
    methods = list(dict.fromkeys(e["method"] for e in runs))
    seeds = sorted({e["seed"] for e in runs})
    std = _label_std(runs)
    opts = config.get("bench", {}).get("method_options") or {}
    shown = {m: o for m, o in opts.items() if o}
    lines = [f"### {run.name}", ""]
    if shown:
        lines += ["options: " + "; ".join(f"{m}: {json.dumps(o, sort_keys=True)}"
                                           for m, o in sorted(shown.items())), ""]  # fmt: skip
    m_up = metric.upper()
    lines += [
        f"| method | {m_up} all | {m_up} many | {m_up} few | {m_up} bin-averaged | "
        f"all − vanilla, paired | best epoch | sigma / label std (start → end) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in methods:
        cells = [m]
        for region in ("all", "many", "few"):
            vals = [value[(m, s, region)] for s in seeds if (m, s, region) in value]
            cells.append(mean_sd(vals, ".4g"))
        ents = [e for e in runs if e["method"] == m]
        cells.append(mean_sd([b for e in ents if (b := _balanced(e, metric)) is not None], ".4g"))
        if m == "vanilla":
            cells.append("")
        else:
            diffs = [value[(m, s, "all")] - value[("vanilla", s, "all")] for s in seeds
                     if (m, s, "all") in value and ("vanilla", s, "all") in value]  # fmt: skip
            better = sum(d < 0 for d in diffs)
            sd = f" ± {statistics.stdev(diffs):.3g}" if len(diffs) > 1 else ""
            cells.append(f"{statistics.fmean(diffs):+.4g}{sd} ({better}/{len(diffs)})"
                         if diffs else "-")  # fmt: skip
        cells.append(", ".join(str(e.get("best_epoch", "-")) for e in ents))
        sig = [(e.get(f"{m}_noise_sigma_init"), e.get(f"{m}_noise_sigma")) for e in ents]
        if std and all(a is not None for a, _ in sig):
            cells.append(
                f"{statistics.fmean(a for a, _ in sig) / std:.3g} → "
                + mean_sd([b / std for _, b in sig], ".3g")
            )
        else:
            cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def suite_table(root: Path) -> list[str]:
    """All-shot test error over vanilla's, per suite table and setting (``suite-SETTING/NAME``)."""
    settings = sorted(p.name for p in root.glob("suite-*") if p.is_dir())
    names = sorted({r.name for s in settings for r in (root / s).iterdir() if r.is_dir()})
    if not settings:
        return []
    methods = ("bmc", "bni", "gai")
    head = [f"{m} {s.removeprefix('suite-')}" for m in methods for s in settings]
    lines = ["### The suite: all-shot test error over vanilla's (seed 0)", "",
             "| data set | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]  # fmt: skip
    columns: list[list[float]] = [[] for _ in head]
    for name in names:
        cells = [name]
        for i, (m, s) in enumerate((m, s) for m in methods for s in settings):
            run = root / s / name
            if not (run / "results.json").exists():
                cells.append("-")
                continue
            _, _, _, value, _ = load(run)
            a, b = value.get((m, 0, "all")), value.get(("vanilla", 0, "all"))
            if a is None or not b:
                cells.append("-")
                continue
            columns[i].append(a / b)
            cells.append(f"{a / b:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    medians = [f"{statistics.median(c):.2f}" if c else "-" for c in columns]
    worst = [f"{max(c):.2f}" if c else "-" for c in columns]
    lines.append("| **median** | " + " | ".join(medians) + " |")
    lines.append("| **worst** | " + " | ".join(worst) + " |")
    return lines + [""]


def main(folder: str) -> None:
    root = Path(folder)
    runs = sorted(p.parent for p in root.glob("**/results.json") if "suite-" not in str(p))
    print("# Issue 13: Balanced MSE and RankSim runs (generated by scripts/issue13_baselines.py)")
    print()
    print("Seeds as in each run; mean ± sample std over seeds; paired: the per-seed difference")
    print("to vanilla of the same run (seeds where the method is better).")
    print()
    print("\n".join(suite_table(root)))
    for run in runs:
        print("\n".join(table(run)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/results/issue-13/baselines")
