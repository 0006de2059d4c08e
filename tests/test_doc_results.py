"""A result behind every figure (issue 13, point 5): every generated table file under
docs/results/ and every generated part of docs/benchmarks.md regenerates byte for byte from the
committed results (the registry: scripts/doc_results.py; no training, only the summary scripts),
and the parts nothing committed re-derives carry the stale mark."""

from __future__ import annotations

import difflib
import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import doc_results  # noqa: E402


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the scripts and the registry name paths from the repository root


def _same(path: str, text: str) -> None:
    committed = (ROOT / path).read_text()
    if committed != text:
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), text.splitlines(True),
                                                 "committed", "regenerated"))[:40])  # fmt: skip
        pytest.fail(f"{path} differs from what its command gives:\n{diff}")


@pytest.mark.parametrize("entry", doc_results.GENERATED, ids=lambda g: g.path)
def test_generated_file_regenerates_byte_for_byte(entry):
    _same(entry.path, entry.make())


@pytest.mark.parametrize("entry", doc_results.COMPOSITE, ids=lambda c: c.path)
def test_composite_file_tables_come_from_their_commands(entry):
    assert not doc_results.missing_rows(entry), f"{entry.path}: rows no command prints"


def test_benchmarks_md_regenerates_from_committed_results():
    _same("docs/benchmarks.md", doc_results.benchmarks_md())
    # the reading notes are appended unchanged (latentdiff report --notes)
    doc = (ROOT / "docs/benchmarks.md").read_text()
    assert doc.endswith((ROOT / doc_results.READING).read_text())


def test_the_registry_covers_every_generated_table_file():
    """Every summary-shaped markdown file under docs/results/ is either in the registry or listed
    as hand-written; a new one must be added to one of them (run folders' own results.md are
    the bench's output beside their results.json and are not summaries)."""
    known = {g.path for g in doc_results.GENERATED} | set(doc_results.HAND_WRITTEN)
    known |= {c.path for c in doc_results.COMPOSITE}
    unlisted = []
    for md in sorted((ROOT / "docs/results").rglob("*.md")):
        rel = md.relative_to(ROOT).as_posix()
        if md.name == "results.md" and (md.parent / "results.json").is_file():
            continue
        if rel not in known and rel not in doc_results.NOT_SUMMARIES:
            unlisted.append(rel)
    assert not unlisted, f"not in scripts/doc_results.py: {unlisted}"


def test_stale_parts_are_marked_until_the_runs_are_committed():
    doc = (ROOT / "docs/benchmarks.md").read_text()
    if doc_results.bench_runs_committed():
        assert doc_results.STALE_MARK not in doc  # regenerated: nothing stale is left
        return
    for heading in doc_results.STALE:
        m = re.search(rf"^{re.escape(heading)}\n\n(.*)$", doc, flags=re.M)
        assert m, f"docs/benchmarks.md has no '{heading}' heading"
        assert m.group(1).startswith(doc_results.STALE_MARK), f"'{heading}' is not marked stale"


def test_benchmarks_sh_commits_and_reports_the_registry_runs():
    """scripts/benchmarks.sh runs every registry run, copies its files into BENCH_RESULTS and
    reports from there, so that the test above can regenerate the document after it."""
    sh = (ROOT / "scripts/benchmarks.sh").read_text()
    runs = (*doc_results.BENCH_GRIDS, *doc_results.BENCH_DETAILS)
    copied = re.search(r"^for run in (.*?); do$", sh, flags=re.M | re.S)
    assert copied and copied.group(1).replace("\\\n", " ").split() == list(runs)
    for name in runs:
        assert f'"$RES/{name}"' in sh, name  # reported from the committed copy
    assert doc_results.BENCH_RESULTS in sh
    for f in doc_results.BENCH_FILES:
        assert f in sh
    assert "latentdiff report" in sh and '--grid "$RES/' in sh
    calls = re.findall(r"^python scripts/(issue\d+_section)\.py", sh, flags=re.M)
    assert calls == list(doc_results.SECTIONS)  # the test renders them in the same order


def test_reading_baselines_figures_come_from_committed_files():
    """docs/benchmarks-reading.md's Balanced MSE / RankSim part: every decimal figure is a value
    of docs/results/issue-13/baselines/ (summary.md or the epoch files) at its printed precision."""
    assert not doc_results.reading_unsourced()


def test_reading_check_catches_a_typed_figure(monkeypatch, tmp_path):
    start, _ = doc_results.READING_BASELINES
    text = (ROOT / doc_results.READING).read_text().replace(start, start + " 0.123456", 1)
    (tmp_path / "reading.md").write_text(text)
    monkeypatch.setattr(doc_results, "READING", str(tmp_path / "reading.md"))
    assert doc_results.reading_unsourced() == ["0.123456"]


def test_after_the_rerun_the_whole_document_comes_from_docs_results(monkeypatch):
    """The branch the test takes once scripts/benchmarks.sh has committed its runs, on committed
    stand-ins (issue 10's California and diamonds runs): the report over the copies, then the
    issue sections in order, each re-rendered unchanged; no stale mark outside the reading."""
    monkeypatch.setattr(doc_results, "BENCH_RESULTS", "docs/results/issue-10")
    monkeypatch.setattr(doc_results, "BENCH_GRIDS", ("california-housing",))
    monkeypatch.setattr(doc_results, "BENCH_DETAILS", ("diamonds",))
    assert doc_results.bench_runs_committed()
    doc = doc_results.benchmarks_md()
    heads = ["# Benchmarks\n", "# Issue 12:", "# Issue 11:", "# Issue 10:", "# Table 1:"]
    heads += ["# LatentDiff against its vanilla network", "## Reading: the Table 1 grids"]
    at = [doc.index(h) for h in heads]
    assert at == sorted(at)
    assert doc_results.STALE_MARK not in doc[: at[-1]]
    assert "(`california-housing`)" in doc[at[4] : at[5]] and "(`diamonds`)" in doc[at[5] :]
    assert doc.endswith((ROOT / doc_results.READING).read_text())
    again = doc
    for name in doc_results.SECTIONS:
        again = importlib.import_module(name).render(again)
    assert again == doc
