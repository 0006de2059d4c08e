"""Issue 10's summary table per run directory: each method's all-shot and few-shot error (the
data set's first table metric), mean ± std over seeds, the paired change against vanilla in
the same run (and on how many seeds it was better), seconds per seed, and what ``auto`` chose
and what ``latentdiff-tuned`` chose on each seed.

    python scripts/issue10_summary.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from run_files import load


def _table(run: Path) -> str:
    config, metric, runs, value, records = load(run)
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    lines = [
        f"### {config['dataset_summary']['name']} (`{run.name}`, encoder "
        f"`{config['encoder_name']}`, "
        f"seeds {seeds}, {metric.upper()})",
        "",
        f"| method | {metric} all | {metric} few | all vs vanilla | few vs vanilla | "
        "s / seed |",
        "|---|---|---|---|---|---|",
    ]
    few_best = min(
        methods,
        key=lambda m: statistics.fmean(value.get((m, s, "few"), float("inf")) for s in seeds),
    )
    for m in methods:
        cells = []
        for region in ("all", "few"):
            v = [value[(m, s, region)] for s in seeds if (m, s, region) in value]
            sd = f" ± {statistics.stdev(v):.4g}" if len(v) > 1 else ""
            cells.append(f"{statistics.fmean(v):.4g}{sd}" if v else "-")
        for region in ("all", "few"):
            pairs = [(value[(m, s, region)], value[("vanilla", s, region)]) for s in seeds
                     if (m, s, region) in value and ("vanilla", s, region) in value]  # fmt: skip
            if m == "vanilla" or not pairs:
                cells.append("")
                continue
            change = [100 * (a - b) / b for a, b in pairs]
            better = sum(a < b for a, b in pairs)
            sd = f" ± {statistics.stdev(change):.1f}" if len(change) > 1 else ""
            cells.append(f"{statistics.fmean(change):+.1f}{sd} % ({better}/{len(pairs)})")
        secs = [e["seconds"] for e in runs if e["method"] == m]
        cells.append(f"{statistics.fmean(secs):.0f}" if secs else "-")
        name = f"**{m}**" if m == few_best else m
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    autos = [e for e in runs if e["method"] == "auto"]
    if autos:
        chose = ", ".join(f"{e['auto']['chosen']} (unguarded: {e['auto']['unguarded_choice']})"
                          for e in autos)  # fmt: skip
        lines += ["", f"auto chose, per seed: {chose}."]
    tuned = [e for e in runs if e["method"] == "latentdiff-tuned"]
    if tuned:
        picks = []
        for e in tuned:
            c = e["tuning"]["chosen"]
            picks.append(f"ratio {c['ratio']:g}, {c['allocation']}, q {c['quantile']}, "
                         f"w {c['synthetic_weight']:g}")  # fmt: skip
        sec = [e["stage_seconds"] for e in tuned]
        lines += [
            "",
            f"latentdiff-tuned chose, per seed: {'; '.join(picks)}. Its stages, mean seconds: "
            f"generator fit and pool {statistics.fmean(s['generator_fits'] for s in sec):.0f}, "
            f"{tuned[0]['tuning']['n_head_fits']} head fits "
            f"{statistics.fmean(s['head_fits'] for s in sec):.0f}.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print("\n\n".join(_table(Path(d)) for d in sys.argv[1:]))
