"""Issue 12, part 2: the tables of docs/methods.md's PoGDiff section from run directories (the
copies under docs/results/issue-12/pogdiff/ by default).

Per row: a method of a run, its table's headline metric per region (mean ± std over seeds) with
the paired change against ``latentdiff`` of the same run in brackets (mean ± std over seeds of
value / latentdiff's - 1, in %), the gate's acceptance over seeds (min-max), and the method's
seconds (mean). For ``latentdiff-tuned`` the chosen generator per seed instead of the acceptance.

    python scripts/issue12_pogdiff_table.py LABEL=RUN:METHOD[@RUN:METHOD] ...

RUN is a folder name under docs/results/issue-12/pogdiff/ or a path. ``@RUN:METHOD`` pairs the
row against that method of that run (same seeds) instead of latentdiff of its own run: for runs
whose networks are bit-identical (the tuned runs).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from run_files import load, mean_sd

RES = Path("docs/results/issue-12/pogdiff")
REGIONS = ("all", "many", "medium", "few")


def row(label: str, run: Path, method: str, ref: tuple[Path, str] | None = None) -> str:
    _, metric, runs, value, _ = load(run)
    ref_value, ref_method = (value, "latentdiff") if ref is None else (load(ref[0])[3], ref[1])
    seeds = sorted({s for (m, s, _) in value if m == method})
    cells = []
    for region in REGIONS:
        v = [value[(method, s, region)] for s in seeds if (method, s, region) in value]
        fmt = ".4f" if max(abs(x) for x in v) < 10 else ".1f"
        cell = mean_sd(v, fmt)
        base = [ref_value.get((ref_method, s, region)) for s in seeds]
        if (ref is not None or method != "latentdiff") and None not in base:
            pairs = zip(seeds, base, strict=True)
            ratio = [100 * (value[(method, s, region)] / b - 1) for s, b in pairs]
            cell += f" ({_signed(ratio)} %)"
        cells.append(cell)
    mine = [e for e in runs if e["method"] == method]
    if method.startswith("latentdiff-tuned"):
        extra = ", ".join(str(e["tuning"]["chosen"]["generator"]) for e in mine)
    elif mine and "acceptance_rate" in mine[0]:
        acc = [100 * e["acceptance_rate"] for e in mine]
        extra = f"{min(acc):.0f}-{max(acc):.0f} %"
    else:
        extra = "-"
    sec = statistics.fmean(e["seconds"] for e in mine) if mine else float("nan")
    return f"| {label} | {metric} | " + " | ".join(cells) + f" | {extra} | {sec:.0f} |"


def _signed(v: list[float]) -> str:
    m = statistics.fmean(v)
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return f"{m:+.1f} ± {sd:.1f}"


def main(args: list[str]) -> None:
    print("| method | metric | all | many | medium | few | gate acceptance / chosen | s |")
    print("|---|---|---|---|---|---|---|---|")
    for a in args:
        label, _, spec = a.rpartition("=")
        spec, _, against = spec.partition("@")
        run, _, method = spec.rpartition(":")
        ref = None
        if against:
            ref_run, _, ref_method = against.rpartition(":")
            ref = (_path(ref_run), ref_method)
        print(row(label, _path(run), method, ref))


def _path(run: str) -> Path:
    return Path(run) if "/" in run and Path(run).is_dir() else RES / run


if __name__ == "__main__":
    main(sys.argv[1:])
