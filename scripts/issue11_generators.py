"""Issue 11's generator table per run directory (scripts/issue11-generators.sh): for each method,
the test error (the data set's first table metric) all-shot and few-shot as a ratio to vanilla's
on the same seed (mean ± std over seeds; lower is better), the stage seconds of the head methods
(runs.json ``stage_seconds``: sampler fit, i.e. the generator's fit with priorities and gate,
and in brackets the generator's own fit, ``generator_fit_seconds``, where recorded; generation
and gate; head retraining), the synthetic features accepted / requested, and the
vanilla network's training seconds, all means over seeds.

    python scripts/issue11_generators.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from run_files import load, mean_sd


def _table(run: Path) -> str:
    config, metric, runs, value, records = load(run)
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    vanilla_s = [e["seconds"] for e in runs if e["method"] == "vanilla"]
    lines = [
        f"### {config['dataset_summary']['name']} (`{run.name}`, seeds {seeds}, "
        f"test {metric.upper()}; vanilla network {statistics.fmean(vanilla_s):.1f} s per seed)",
        "",
        f"| method | {metric} all | {metric} few | all / vanilla | few / vanilla | "
        "sampler fit s (generator s) | generate + gate s | head s | accepted / requested |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in methods:
        cells = []
        for region in ("all", "few"):
            cells.append(mean_sd([value[(m, s, region)] for s in seeds if (m, s, region) in value],
                             ".4g"))  # fmt: skip
        for region in ("all", "few"):
            ratios = [value[(m, s, region)] / value[("vanilla", s, region)] for s in seeds
                      if (m, s, region) in value and ("vanilla", s, region) in value]  # fmt: skip
            cells.append("" if m == "vanilla" else mean_sd(ratios, ".3f"))
        mine = [e for e in runs if e["method"] == m]
        stages = [e["stage_seconds"] for e in mine if "stage_seconds" in e]
        for k in ("sampler_fit", "generate_and_gate", "head"):
            cells.append(mean_sd([s[k] for s in stages], ".2f") if stages else "")
        own = [e["generator_fit_seconds"] for e in mine if "generator_fit_seconds" in e]
        if own:  # recorded since issue 11: the generator's own part of the sampler fit
            cells[-3] += f" ({mean_sd(own, '.2f')})"
        acc = [(e["n_synthetic_accepted"], e["n_synthetic_requested"]) for e in mine
               if "n_synthetic_requested" in e]  # fmt: skip
        cells.append(
            f"{statistics.fmean(a for a, _ in acc):.0f} / {statistics.fmean(r for _, r in acc):.0f}"
            if acc else ""
        )  # fmt: skip
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    print("\n\n".join(_table(Path(d)) for d in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
