"""STS-B-DIR loader: sentence pairs with a similarity score in [0, 5] (seed 004, app. B.3).

The splits are those of the DIR reference (YyzHarry/imbalanced-regression): ``train_new.tsv``
(5,249 pairs), ``dev_new.tsv`` (1,000, label-balanced, our val) and ``test_new.tsv`` (1,000,
label-balanced). Each is a GLUE-style TSV with a header; we read ``sentence1``, ``sentence2`` and
``score`` by name.

Evaluation bins are the reference's 50 bins of width 0.1 over [0, 5] (5.0 in bin 49). Shot
regions are, by choice:

* ``"official"``: the reference's fixed lists of bins (default, so that tables compare with the
  papers'); on the test split 756 many / 170 medium / 74 few samples. These lists are exactly the
  count rule with many > 100 and few < 30, the STS-B thresholds of seed 004, app. C.1;
* ``"dir"``: the count rule with DIR thresholds (many > 100, few < 20): 756 / 207 / 37;
* ``"latentdiff"``: the count rule with LatentDiff's thresholds (many > 70, few < 30, seed 000,
  app. B): 909 / 17 / 74.

Almost every STS-B score lies exactly on a bin edge (scores are averages of integer ratings, e.g.
0.6 = 6 x 0.1), so the bin of a score must not depend on rounding: ``0.6 / 0.1`` is
``5.999...`` in float64 and a plain ``floor`` puts 0.6 in bin 5. ``Bins.assign`` puts labels on
an edge in the upper bin (see ``binning.EDGE_TOLERANCE``), as the reference's float32 arithmetic
does, which reproduces its region counts above.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Literal

import numpy as np

from ..binning import THRESHOLDS, Bins, ShotRegions
from .base import DIRDataset, Split

SPLIT_FILES: dict[str, str] = {
    "train": "train_new.tsv",
    "val": "dev_new.tsv",
    "test": "test_new.tsv",
}
COLUMNS: tuple[str, str, str] = ("sentence1", "sentence2", "score")
SCORE_RANGE: tuple[float, float] = (0.0, 5.0)
N_BINS = 50  # width 0.1 over [0, 5], as the DIR reference bins STS-B

#: The DIR reference's fixed region lists for STS-B-DIR (bin indices of the 50 bins):
#: many = 0, every even bin from 10 to 48, and 49; medium = the short list below; few = the rest.
OFFICIAL_MANY: tuple[int, ...] = (0, *range(10, 49, 2), 49)
OFFICIAL_MEDIUM: tuple[int, ...] = (2, 4, 6, 8, 27, 35, 37)

SOURCE = "STS-B-DIR, YyzHarry/imbalanced-regression splits"

RegionRule = Literal["official", "dir", "latentdiff"]


def stsb_bins() -> Bins:
    """The 50 evaluation bins of width 0.1 over [0, 5] (edge labels go to the upper bin)."""
    return Bins.from_range(*SCORE_RANGE, n_bins=N_BINS)


def stsb_regions(y_train: np.ndarray, regions: RegionRule = "official") -> ShotRegions:
    """Shot regions of STS-B-DIR from the training scores under the chosen rule."""
    bins = stsb_bins()
    if regions == "official":
        return ShotRegions.from_lists(
            bins,
            many=OFFICIAL_MANY,
            medium=OFFICIAL_MEDIUM,
            description="STS-B-DIR official region lists (DIR reference)",
            train_counts=bins.counts(y_train),
        )
    if regions in THRESHOLDS:  # "dir" or "latentdiff": the count rule
        return ShotRegions.from_training_labels(y_train, bins, THRESHOLDS[regions])
    raise ValueError(f"unknown regions {regions!r}; expected 'official', 'dir' or 'latentdiff'")


def _read_tsv(file: Path) -> Split:
    """Read one STS-B TSV into a :class:`Split` of (sentence1, sentence2) pairs and scores."""
    if not file.is_file():
        raise FileNotFoundError(f"STS-B-DIR file not found: {file}")
    # QUOTE_NONE: STS-B sentences contain unbalanced quotes, which a quoting reader would join
    # across rows (GLUE's own loaders read these files the same way).
    with open(file, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    # blank lines (e.g. a trailing one) carry nothing
    numbered = [(i + 1, r) for i, r in enumerate(rows) if r and any(c.strip() for c in r)]
    if not numbered:
        raise ValueError(f"{file} is empty: expected a header row with columns {COLUMNS}")
    _, header = numbered[0]
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{file} has no column(s) {missing} in its header {header}")
    col = {c: header.index(c) for c in COLUMNS}
    body = numbered[1:]
    if not body:
        raise ValueError(f"{file} has a header but no data rows")

    s1, s2, y = [], [], []
    lo, hi = SCORE_RANGE
    for line, r in body:
        if len(r) != len(header):
            raise ValueError(
                f"{file}, line {line}: malformed row with {len(r)} tab-separated field(s), "
                f"expected {len(header)} (truncated row or stray tab?)"
            )
        raw = r[col["score"]].strip()
        try:
            score = float(raw)
        except ValueError:
            raise ValueError(f"{file}, line {line}: score {raw!r} is not a number") from None
        if not math.isfinite(score):
            raise ValueError(f"{file}, line {line}: score {raw!r} is NaN or infinite")
        if not lo <= score <= hi:
            raise ValueError(f"{file}, line {line}: score {score:g} is outside [{lo:g}, {hi:g}]")
        s1.append(r[col["sentence1"]])
        s2.append(r[col["sentence2"]])
        y.append(score)

    X = np.empty((len(y), 2), dtype=object)  # (N, 2) of str
    X[:, 0] = s1
    X[:, 1] = s2
    return Split(X, np.asarray(y, dtype=np.float64))


def load_stsb_dir(path: str | Path, regions: RegionRule = "official") -> DIRDataset:
    """Load STS-B-DIR from a folder holding ``train_new.tsv``, ``dev_new.tsv``, ``test_new.tsv``.

    Parameters
    ----------
    path : str or Path
        The folder (e.g. ``sts-b-dir/glue_data/STS-B`` of the DIR reference repository).
    regions : {"official", "dir", "latentdiff"}
        Shot-region rule: the reference's fixed bin lists, or the count rule with DIR (100 / 20)
        or LatentDiff (70 / 30) thresholds.

    Returns
    -------
    DIRDataset
        Modality ``"text"``; ``X`` is an object array (N, 2) of (sentence1, sentence2).
    """
    if regions not in ("official", "dir", "latentdiff"):
        raise ValueError(f"unknown regions {regions!r}; expected 'official', 'dir' or 'latentdiff'")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"STS-B-DIR folder not found: {folder}")
    splits = {part: _read_tsv(folder / name) for part, name in SPLIT_FILES.items()}
    return DIRDataset(
        name="stsb-dir",
        modality="text",
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        regions=stsb_regions(splits["train"].y, regions),
        info={
            "source": SOURCE,
            "path": str(folder.resolve()),
            "files": dict(SPLIT_FILES),
            "region_rule": regions,
        },
    )
