"""Containers every loader returns: a :class:`Split` per part and a :class:`DIRDataset`.

Raw inputs stay in their modality's natural form; encoders (``latentdiff.encoders``) turn them
into tensors:

* ``tabular`` and ``features``: float32 array (N, d)
* ``text``: object array (N, 2) of sentence pairs (str, str)
* ``image``: object array (N,) of absolute image paths
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..binning import DIR_THRESHOLDS, Bins, ShotRegions, ShotThresholds
from ..validation import check_labels

Modality = Literal["tabular", "text", "image", "features"]
MODALITIES: tuple[str, ...] = ("tabular", "text", "image", "features")


@dataclass
class Split:
    """Inputs ``X`` (modality-specific, N rows) and float64 labels ``y`` (N,)."""

    X: Any
    y: np.ndarray

    def __post_init__(self):
        self.y = check_labels(self.y, "labels", allow_empty=True)
        if len(self.X) != self.y.size:
            raise ValueError(f"X has {len(self.X)} rows but y has {self.y.size} labels")

    def __len__(self) -> int:
        return self.y.size

    def subset(self, idx) -> Split:
        return Split(self.X[idx], self.y[idx])


@dataclass
class DIRDataset:
    """A DIR benchmark: train / val / test splits, evaluation bins and shot regions.

    ``regions`` are computed from the *training* labels (or are a benchmark's fixed lists) and
    are used to score val and test predictions.
    """

    name: str
    modality: Modality
    train: Split
    val: Split
    test: Split
    regions: ShotRegions
    info: dict = field(default_factory=dict)
    #: curated zero-shot label ranges (:class:`latentdiff.zeroshot.ZeroShot`): their training
    #: and validation rows were removed, their test rows are scored as regions of their own
    zero_shot: Any = None

    def __post_init__(self):
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown modality {self.modality!r}; expected one of {MODALITIES}")
        for part in ("train", "val", "test"):
            if len(getattr(self, part)) == 0:
                raise ValueError(f"data set {self.name!r} has an empty {part} split")

    @property
    def eval_bins(self) -> Bins:
        return self.regions.bins

    def fingerprint(self) -> str:
        """SHA-256 of the splits' inputs and labels and of the regions: what a checkpoint or
        cache built from this data set is keyed by. Images count by their paths, not their
        pixels (hashing every image would cost as much as reading it)."""
        from ..io import fingerprint

        parts: list = [self.name, self.modality, self.regions.to_dict()]
        if self.zero_shot is not None:  # absent otherwise: earlier fingerprints are unchanged
            parts.append(self.zero_shot.to_dict())
        for part in ("train", "val", "test"):
            split = getattr(self, part)
            X = split.X.to_numpy() if hasattr(split.X, "to_numpy") else np.asarray(split.X)
            parts += [part, X, split.y]
        return fingerprint(*parts)

    def summary(self) -> dict:
        from ..metrics import region_counts

        return {
            "name": self.name,
            "modality": self.modality,
            "n_train": len(self.train),
            "n_val": len(self.val),
            "n_test": len(self.test),
            "label_range_train": [float(self.train.y.min()), float(self.train.y.max())],
            "regions": self.regions.description,
            "eval_bins": self.eval_bins.to_dict(),
            "test_region_counts": region_counts(self.regions.of(self.test.y)),
            **({} if self.zero_shot is None else {"zero_shot": self.zero_shot_summary()}),
            **{
                k: v for k, v in self.info.items() if isinstance(v, str | int | float | list | dict)
            },
        }

    def zero_shot_summary(self) -> dict:
        """The zero-shot ranges and the test rows in each region (with zero-shot ranges)."""
        from ..zeroshot import region_labels

        r = region_labels(self, self.test.y)
        names, counts = np.unique(r.astype(str), return_counts=True)
        return {**self.zero_shot.to_dict(),
                "test_region_counts": dict(zip(names.tolist(), counts.tolist(), strict=True)),
                "removed": self.info.get("zero_shot_removed")}  # fmt: skip


def make_regions(
    y_train,
    eval_n_bins: int | None = None,
    eval_bin_width: float | None = None,
    thresholds: ShotThresholds = DIR_THRESHOLDS,
    label_range: tuple[float, float] | None = None,
) -> ShotRegions:
    """Equal-width evaluation bins over the training label range and count-rule shot regions."""
    if eval_n_bins is None and eval_bin_width is None:
        eval_n_bins = 20
    bins = Bins.fit(y_train, n_bins=eval_n_bins, bin_width=eval_bin_width, label_range=label_range)
    return ShotRegions.from_training_labels(y_train, bins, thresholds)


def balanced_split(
    y, bins: Bins, cap: int = 30, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label-balanced val and test sets for data without official splits.

    As the DIR reference builds them: for each label bin, up to ``min(n_bin // 3, cap)`` samples go
    to val and as many to test; the rest is training data. Returns index arrays (train, val, test).
    """
    if cap < 1:
        raise ValueError(f"cap must be a positive integer, got {cap}")
    rng = np.random.default_rng(random_state)
    b = bins.assign(y)
    train, val, test = [], [], []
    for k in range(bins.n_bins):
        idx = np.flatnonzero(b == k)
        rng.shuffle(idx)
        m = min(idx.size // 3, cap)
        val.append(idx[:m])
        test.append(idx[m : 2 * m])
        train.append(idx[2 * m :])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in (train, val, test))
