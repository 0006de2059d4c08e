"""Issue 11's cost table: per run directory and head method, the time LatentDiff adds to its
network (sampler fit + generation and gate + head retraining, from runs.json's
``stage_seconds``) as a ratio to the vanilla network's training time in the same run, per seed;
the generator's steps; and the error ratios to vanilla (all-shot and few-shot, the data set's
first table metric), mean ± std over seeds. With ``--before DIR`` per data set (a run of the
same data set and seeds made with the code before this issue, here issue 10's), the table also
shows that run's latentdiff beside today's, and checks that its vanilla numbers are those of
this run (the same network), so the error comparison is like for like.

    python scripts/issue11_cost.py RUN_DIR[=BEFORE_DIR] ...
"""

from __future__ import annotations

import sys
from pathlib import Path

from run_files import load, mean_sd

ADDED = ("sampler_fit", "generate_and_gate", "head")


def _rows(runs, value, seeds, label_suffix=""):
    out = []
    heads = list(dict.fromkeys(e["method"] for e in runs if "stage_seconds" in e))
    for m in heads:
        entries = {e["seed"]: e for e in runs if e["method"] == m}
        ratios = [
            sum(entries[s]["stage_seconds"].get(k, 0.0) for k in ADDED)
            / entries[s]["network_train_seconds"]
            for s in seeds
            if s in entries
        ]
        steps = [entries[s].get("generator_steps") for s in seeds if s in entries]
        steps = "-" if any(x is None for x in steps) else ", ".join(map(str, steps))
        cells = [m + label_suffix, mean_sd(ratios, ".2f") + "x", steps]
        for region in ("all", "few"):
            r = [value[(m, s, region)] / value[("vanilla", s, region)] for s in seeds
                 if (m, s, region) in value and ("vanilla", s, region) in value]  # fmt: skip
            cells.append(mean_sd(r, ".3f"))
        out.append("| " + " | ".join(cells) + " |")
    return out


def table(run: Path, before: Path | None) -> str:
    config, metric, runs, value = load(run)[:4]
    seeds = sorted({e["seed"] for e in runs})
    net = [e["seconds"] for e in runs if e["method"] == "vanilla"]
    lines = [
        f"### {config['dataset_summary']['name']} (`{run.name}`, encoder "
        f"`{config['encoder_name']}`, seeds {seeds}, {metric.upper()}; vanilla network "
        f"{mean_sd(net, '.1f')} s)",
        "",
        f"| method | added time / network time | generator steps | {metric} all / vanilla | "
        f"{metric} few / vanilla |",
        "|---|---|---|---|---|",
    ]
    lines += _rows(runs, value, seeds)
    if before is not None:
        _, metric_b, runs_b, value_b = load(before)[:4]
        same = all(
            value_b.get(("vanilla", s, r)) == value.get(("vanilla", s, r))
            for s in seeds
            for r in ("all", "few")
        )
        old = [e for e in runs_b if e["method"] == "latentdiff"]
        lines += _rows(old, value_b, seeds, " (before, `" + before.name + "`)")
        lines.append("")
        lines.append(
            f"Before: `{before}`, made with the code before issue 11 (the old defaults). Its "
            f"vanilla {metric.upper()} is "
            + ("identical to this run's on every seed (the same network), so the errors compare "
               "like for like." if same else "NOT identical to this run's: compare with care.")
        )  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parts = []
    for arg in argv:
        run, _, before = arg.partition("=")
        parts.append(table(Path(run), Path(before) if before else None))
    print("\n\n".join(parts))


if __name__ == "__main__":
    main(sys.argv[1:])
