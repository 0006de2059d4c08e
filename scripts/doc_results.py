"""Where the figures of README.md and docs/*.md come from (issue 13, point 5): the registry
tests/test_doc_results.py checks, and the list of benchmark runs scripts/benchmarks.sh commits.

``GENERATED``: every generated table file under docs/results/, with the command that regenerates
it from committed inputs only (no training) and a function giving the same text; the test
compares it byte for byte with the committed file. ``benchmarks_md()``: docs/benchmarks.md as
the committed files give it (its issue sections re-rendered by scripts/issue1{0,1,2}_section.py;
the Table 1 grid and the detailed sections from docs/results/benchmarks/ once
``bash scripts/benchmarks.sh`` has committed those runs, until then kept as they are, marked
stale). ``HAND_WRITTEN`` and ``STALE``: what is not regenerated, and why. The inventory in prose:
docs/results/README.md.

    python scripts/doc_results.py          # list every generated file and whether it matches
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

#: where scripts/benchmarks.sh copies each run's config.json, results.json, results.md, runs.json
BENCH_RESULTS = "docs/results/benchmarks"
#: its runs: the Table 1 grids (``latentdiff report --grid``) and the detailed runs, in order
BENCH_GRIDS = ("table1-california-housing", "table1-stsb-dir-minilm")
BENCH_DETAILS = (
    "stsb-dir-bilstm",
    "stsb-dir-bilstm-dropout0.2",
    "stsb-dir-minilm",
    "california-housing",
    "california-housing-ratio0.5",
    "california-housing-ratio0.8",
)
BENCH_FILES = ("config.json", "results.json", "results.md", "runs.json")
#: the line at the head of each part of docs/benchmarks.md that no committed file re-derives
STALE_MARK = "**Stale (issue 13, point 5):**"


@dataclass(frozen=True)
class Generated:
    """A committed file that ``command`` (run from the repository root) regenerates from committed
    inputs; ``make()`` returns the text it writes, without writing it."""

    path: str
    command: str
    make: Callable[[], str]


def _stdout(script: str, *args: str) -> Callable[[], str]:
    """What ``python scripts/SCRIPT ARGS`` prints (globs in ARGS expanded, sorted, as bash does in
    the C locale for these names), run in this process."""

    def make() -> str:
        argv = []
        for a in args:
            argv += sorted(glob.glob(a)) if any(c in a for c in "*?[") else [a]
        out, old = io.StringIO(), sys.argv
        sys.argv = [str(SCRIPTS / script), *argv]
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(str(SCRIPTS / script), run_name="__main__")
        except SystemExit as e:  # a script ending with sys.exit(main())
            if e.code not in (None, 0):
                raise RuntimeError(f"scripts/{script} exited with {e.code}") from e
        finally:
            sys.argv = old
        return out.getvalue()

    return make


def _stdout_entry(path: str, script: str, *args: str) -> Generated:
    shown = " ".join(["python", f"scripts/{script}", *args])
    return Generated(path, f"{shown} > {path}", _stdout(script, *args))


def _ldmlr_tables() -> str:
    from ldmlr_table import regenerate

    return regenerate(Path("docs/results/issue-12/ldmlr"))


def _frechet(name: str) -> Callable[[], str]:
    def make() -> str:
        from issue12_pogdiff_frechet import acceptance, summary

        res = Path("docs/results/issue-12/pogdiff")
        records = json.loads((res / f"{name}-frechet.json").read_text())
        return summary(records, res / name) + "\n" + acceptance(res / name)

    return make


def _analysis() -> str:
    from latentdiff.analysis.run import summary_markdown

    res = Path("docs/results/issue-13/analysis/california-housing")
    return summary_markdown(json.loads((res / "analysis.json").read_text())) + "\n"


def _speed(name: str) -> Callable[[], str]:
    def make() -> str:
        from latentdiff.speed.report import markdown

        path = Path(f"docs/results/issue-11/speed/{name}.json")
        return markdown(json.loads(path.read_text()))

    return make


def transfer_losses(root: str | Path) -> str:
    """Issue 10's transfer runs (scripts/issue10-transfer.sh): the generator's denoising loss
    (eq. 7, mean of the first and of the last 50 of its steps) and the synthetic features kept,
    per arm and seed, from each arm's runs.json under ``root``."""
    lines = [
        "",
        "Generator loss (eq. 7) on the target, mean of the first / last 50 of its steps, "
        "and synthetic features accepted / requested, per seed:",
        "",
        "| arm | seed | loss first 50 | loss last 50 | accepted / requested |",
        "|---|---|---|---|---|",
    ]
    for arm in ("source", "scratch", "full", "head"):
        for r in json.loads((Path(root) / arm / "runs.json").read_text()):
            if r["method"] == "latentdiff":
                first, last = r["generator_loss"]["loss"]
                lines.append(
                    f"| {arm} | {r['seed']} | {first:.4f} | {last:.4f} | "
                    f"{r['n_synthetic_accepted']} / {r['n_synthetic_requested']} |"
                )
    return "\n".join(lines) + "\n"


def _transfer() -> str:
    res = "docs/results/issue-10/transfer"
    parts = [
        _stdout(
            "compare_runs.py",
            f"{res}/scratch",
            f"{res}/{mode}",
            "--metric",
            metric,
            "--methods",
            "latentdiff",
        )()
        for metric in ("mse", "mae")
        for mode in ("full", "head")
    ]
    return "".join(parts) + transfer_losses(res)


I10, I11 = "docs/results/issue-10", "docs/results/issue-11"
_SAMPLERS = [
    _stdout_entry(
        f"{I11}/samplers/{sub}summary.md",
        "issue11-samplers.py",
        "table",
        f"{I11}/samplers/{sub}california-housing.json",
        f"{I11}/samplers/{sub}stsb-dir-minilm.json",
    )
    for sub in ("", "before-merge/", "first-merge/")
]
GENERATED: tuple[Generated, ...] = (
    _stdout_entry(
        f"{I10}/summary.md",
        "issue10_summary.py",
        *(
            f"{I10}/{r}"
            for r in ("california-housing", "stsb-dir-minilm", "diamonds", "stsb-dir-bilstm")
        ),
    ),
    _stdout_entry(f"{I10}/suite.md", "suite.py", "summarise", f"{I10}/suite/*"),
    Generated(
        f"{I10}/transfer/comparison.md",
        "bash scripts/issue10-transfer.sh (its last lines: scripts/compare_runs.py scratch "
        "against full and head, mse and mae, then python scripts/doc_results.py "
        "transfer-losses DIR)",
        _transfer,
    ),
    _stdout_entry(
        f"{I11}/cost.md",
        "issue11_cost.py",
        *(
            f"{I11}/cost/{r}={I10}/{r}"
            for r in ("california-housing", "stsb-dir-bilstm", "diamonds")
        ),
        f"{I11}/cost/psid",
        f"{I11}/cost/wages1",
    ),
    _stdout_entry(
        f"{I11}/timing.md",
        "issue11_cost.py",
        *(
            f"{I11}/timing/{r}"
            for r in ("california-housing", "stsb-dir-bilstm", "psid", "wages1", "workinghours")
        ),
    ),
    *_SAMPLERS,
    *(
        _stdout_entry(
            f"{I11}/generators/{sub}summary.md",
            "issue11_generators.py",
            f"{I11}/generators/{sub}california-housing",
            f"{I11}/generators/{sub}diamonds",
        )
        for sub in ("", "cheap-seconds/")
    ),
    *(
        Generated(
            f"{I11}/speed/{n}.md",
            f"latentdiff speed ... > {I11}/speed/{n}.md (the table of {n}.json: "
            f"latentdiff.speed.report.markdown)",
            _speed(n),
        )
        for n in (
            "speed",
            "speed-2",
            "speed-2048-batch1024",
            "speed-default-denoiser",
            "stream-1m",
            "stream-1m-mmap-reader",
        )
    ),
    Generated(
        "docs/results/issue-12/ldmlr/tables.md",
        "python scripts/ldmlr_table.py --all",
        _ldmlr_tables,
    ),
    *(
        Generated(
            f"docs/results/issue-12/pogdiff/{n}-frechet.md",
            f"python scripts/issue12_pogdiff_frechet.py --summary-only "
            f"docs/results/issue-12/pogdiff/{n} docs/results/issue-12/pogdiff/{n}-frechet",
            _frechet(n),
        )
        for n in ("california-housing", "stsb-dir-minilm", "diamonds")
    ),
    _stdout_entry(
        "docs/results/issue-13/baselines/summary.md",
        "issue13_baselines.py",
        "docs/results/issue-13/baselines",
    ),
    Generated(
        "docs/results/issue-13/analysis/california-housing/analysis.md",
        "latentdiff analyse RUN_DIR (scripts/issue13-analysis.sh; the summary of "
        "analysis.json: latentdiff.analysis.run.summary_markdown)",
        _analysis,
    ),
)

#: other helpers' summaries of issue 13 (points 2 and 3), registered once their branch is merged
#: (the script and the file both present); until then the coverage test would name the file
_ON_MERGE = (
    ("docs/results/issue-13/ablations/summary.md", "issue13_ablations.py",
     "docs/results/issue-13/ablations"),
    ("docs/results/issue-13/zero-shot/summary.md", "issue13_zero_shot_table.py",
     "docs/results/issue-13/zero-shot"),
)  # fmt: skip
GENERATED += tuple(
    _stdout_entry(path, script, *args)
    for path, script, *args in _ON_MERGE
    if (ROOT / path).is_file() and (SCRIPTS / script).is_file()
)


@dataclass(frozen=True)
class Composite:
    """A committed file of hand-written prose around tables that ``commands`` print: every table
    row of the file (a line starting with '|') is a line of one of their outputs."""

    path: str
    commands: tuple[Generated, ...]


def _surfaces(base: str, files: str) -> Generated:
    return _stdout_entry("-", "ldmlr_surfaces.py", "table", base, files)


_LS = "docs/results/issue-12/ldmlr-surfaces"
COMPOSITE: tuple[Composite, ...] = (
    Composite(
        f"{_LS}/tables.md",
        tuple(
            _surfaces(base, f"{_LS}/digits-if{f}-seed*.json")
            for base in ("lr", "clf-ce")
            for f in (100, 10)
        )
        + (_surfaces("ce", f"{_LS}/diamonds-cut/records.json"),),
    ),
)

#: committed files with typed numbers, each a hand-written summary of the files it names
HAND_WRITTEN = {
    "docs/results/issue-10/goals.md": "issue 10's goals: summary.md, suite.md and the run "
    "folders beside it",
    "docs/results/issue-11/goals.md": "issue 11's goals: timing.md, cost.md, generators/, "
    "samplers/summary.md, speed/, docs/scaling.md",
    "docs/benchmarks-reading.md": "the reading notes appended to docs/benchmarks.md: the Table 1 "
    "grids (stale) and issue-13/baselines/summary.md",
}

#: summary-shaped files under docs/results/ that are neither generated from committed inputs nor
#: typed summaries: the raw output of a measuring command (the result itself), or a note
NOT_SUMMARIES = {
    "docs/results/issue-11/lr.md": "stdout of scripts/issue11_variants.py (trains; its header "
    "gives the commands)",
    "docs/results/issue-11/threads.md": "stdout of scripts/issue11_threads.py (a timing)",
    "docs/results/issue-12/clsbench/README.md": "a note on the run folder beside it",
    "docs/results/README.md": "the inventory of every figure's source (this registry in prose)",
}

#: the headings of docs/benchmarks.md whose parts no committed file re-derives (until
#: ``bash scripts/benchmarks.sh`` commits the runs), each marked with STALE_MARK below it
STALE = (
    "# Benchmarks",
    "# Table 1: every method side by side",
    "# LatentDiff against its vanilla network, in detail",
    "## Reading: the Table 1 grids",
    "## Reading",
)


#: docs/benchmarks-reading.md's issue-13 part (Balanced MSE, RankSim): its decimal figures are
#: checked against the committed files it names; these few are not results of ours
READING = "docs/benchmarks-reading.md"
READING_BASELINES = ("Two baselines failed", "\n## Reading\n")
READING_EXTERNAL = {
    "15.8": "AgeDB-DIR's training label std (the reference's data set)",
    "9.2": "the label std of the Boston data in the Balanced MSE authors' tutorial",
    "100.0": "the RankSim reference's --regularization_weight on AgeDB-DIR",
}
_NUMBER = r"(?<![\w.])[-−+]?\d[\d,]*\.\d+(?![\w])"


def _numbers(text: str) -> list[str]:
    import re

    return re.findall(_NUMBER, text)


def reading_sources() -> set[float]:
    """Every number of issue-13/baselines/summary.md and of the epoch-by-epoch JSON files beside
    it (sigma also in label stds, as the text quotes it)."""
    res = Path("docs/results/issue-13/baselines")
    values = {
        abs(float(n.replace("−", "-").replace(",", "")))
        for n in _numbers((res / "summary.md").read_text())
    }

    def walk(o) -> None:
        if isinstance(o, dict):
            if "bmc_noise_sigma" in o and "bmc_label_std" in o:
                values.add(o["bmc_noise_sigma"] / o["bmc_label_std"])
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
        elif isinstance(o, int | float) and not isinstance(o, bool):
            values.add(abs(float(o)))

    for f in sorted(res.glob("*.json")):
        walk(json.loads(f.read_text()))
    return values


def reading_unsourced() -> list[str]:
    """The decimal figures of the reading's issue-13 part that no committed value gives at the
    precision printed (rounded half up), nor READING_EXTERNAL names."""
    text = Path(READING).read_text()
    start, end = READING_BASELINES
    part = text[text.index(start) : text.index(end)]
    values = reading_sources()
    out = []
    for n in _numbers(part):
        s = n.replace("−", "-").replace(",", "").lstrip("+-")
        if s in READING_EXTERNAL:
            continue
        x, half = float(s), 0.5 * 10 ** -len(s.split(".")[1])
        if not any(abs(v - x) <= half * (1 + 1e-9) for v in values):
            out.append(n)
    return out


#: the scripts that put each issue's section into docs/benchmarks.md (a ``render(doc) -> doc``
#: each), in the order scripts/benchmarks.sh runs them after ``latentdiff report``
SECTIONS = ("issue10_section", "issue11_section", "issue12_section", "issue13_section")


def bench_runs_committed() -> bool:
    return all(
        (Path(BENCH_RESULTS) / n / f).is_file()
        for n in (*BENCH_GRIDS, *BENCH_DETAILS)
        for f in BENCH_FILES
    )


def benchmarks_md() -> str:
    """docs/benchmarks.md from the committed files: with the benchmark runs committed under
    BENCH_RESULTS, all of it (``latentdiff report`` then the three section scripts, as
    scripts/benchmarks.sh does); without them, the committed document with its issue sections
    re-rendered (the rest is kept, marked stale)."""
    import importlib

    if bench_runs_committed():
        from latentdiff.reporting.document import benchmarks_document

        res = Path(BENCH_RESULTS)
        doc = benchmarks_document(
            [res / n for n in BENCH_GRIDS],
            [res / n for n in BENCH_DETAILS],
            "docs/benchmarks-reading.md",
        )
    else:
        doc = Path("docs/benchmarks.md").read_text()
    for name in SECTIONS:
        doc = importlib.import_module(name).render(doc)
    return doc


def missing_rows(c: Composite) -> list[str]:
    """The table rows of ``c.path`` that none of its commands prints."""
    rows = set().union(*(g.make().splitlines() for g in c.commands))
    return [
        ln for ln in Path(c.path).read_text().splitlines() if ln.startswith("|") and ln not in rows
    ]


def main() -> int:
    if sys.argv[1:2] == ["transfer-losses"]:
        print(transfer_losses(sys.argv[2]), end="")
        return 0
    bad = 0
    for g in (
        *GENERATED,
        Generated("docs/benchmarks.md", "bash scripts/benchmarks.sh", benchmarks_md),
    ):
        same = Path(g.path).read_text() == g.make()
        bad += not same
        print(f"{'same' if same else 'DIFFERS'}  {g.path}  <-  {g.command}", file=sys.stderr)
    for c in COMPOSITE:
        missing = missing_rows(c)
        bad += bool(missing)
        print(f"{'DIFFERS' if missing else 'same'}  {c.path} (its table rows)", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
