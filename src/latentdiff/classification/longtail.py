"""The long-tailed classification protocol: an exponential training profile, class-balanced
validation and test sets, and shot regions by training count per class.

Protocol (Cao et al., 2019, "LDAM", sec. 4: CIFAR-LT; the setting of seed 002, sec. 4.1):

* classes are ordered by their sorted label value (``np.unique``: integers ascending, strings
  lexicographically); class ``c = 0..C-1`` in that order keeps
  ``n_c = floor(n_max * IF^(-c / (C - 1)))`` training rows, so the first class is the head
  (``n_max``) and the last the tail (``n_max / IF``, at least 1);
* per class, a seeded permutation of its rows (``numpy.random.default_rng(random_state)``,
  classes in order) gives first ``n_test`` test rows, then ``n_val`` validation rows (the same
  counts for every class: balanced), then the first ``n_c`` of the rest as training rows; the
  rows left over are unused;
* ``n_max`` defaults to the fewest rows any class has left after its test and validation rows,
  so every class can supply its profile count;
* regions: a class is ``many`` with more than 100 training rows, ``few`` with fewer than 20,
  ``medium`` otherwise (:data:`CLASS_THRESHOLDS`, the DIR / OLTR thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: (many above, few below): training rows per class (Liu et al., 2019, OLTR)
CLASS_THRESHOLDS: tuple[int, int] = (100, 20)
REGIONS: tuple[str, ...] = ("many", "medium", "few")


def long_tail_counts(n_max: int, n_classes: int, imbalance_factor: float) -> np.ndarray:
    """n_c = floor(n_max * IF^(-c / (C - 1))) for c = 0..C-1, each at least 1 (Cao et al., 2019).

    ``imbalance_factor`` = n_max / n_min >= 1; 1 gives a balanced set.
    """
    if isinstance(n_max, bool) or not isinstance(n_max, int | np.integer) or n_max < 1:
        raise ValueError(f"n_max must be a positive integer, got {n_max!r}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise ValueError(f"n_classes must be an integer, got {n_classes!r}")
    if n_classes < 2:
        raise ValueError(f"a classification needs at least 2 classes, got {n_classes}")
    if not np.isfinite(imbalance_factor) or imbalance_factor < 1:
        raise ValueError(f"imbalance_factor must be a finite number >= 1, got {imbalance_factor}")
    c = np.arange(n_classes, dtype=np.float64)
    n = np.floor(n_max * float(imbalance_factor) ** (-c / (n_classes - 1)) + 1e-9)
    return np.maximum(n, 1).astype(np.int64)


def class_regions(
    train_counts: np.ndarray, thresholds: tuple[int, int] = CLASS_THRESHOLDS
) -> np.ndarray:
    """The region name of each class from its training count: many > hi, few < lo, else
    medium (object array of str, one per class)."""
    hi, lo = thresholds
    counts = np.asarray(train_counts)
    return np.where(counts > hi, "many", np.where(counts < lo, "few", "medium")).astype(object)


def _plain(value):
    """A numpy scalar as the Python value it holds (for messages and JSON)."""
    return value.item() if hasattr(value, "item") else value


def encode_classes(y) -> tuple[np.ndarray, np.ndarray]:
    """(classes, codes): the sorted distinct labels as read (integers or strings, never cast to
    float) and each row's index into them. Refuses missing labels, floats that are not whole
    numbers (a continuous target), and fewer than 2 classes."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"class labels must be a non-empty 1-D array, got shape {y.shape}")
    if y.dtype == object:
        missing = [v for v in y if v is None or (isinstance(v, float) and np.isnan(v))]
        if missing:
            raise ValueError(f"class labels have {len(missing)} missing value(s)")
        kinds = {type(v) for v in y}
        if len(kinds) > 1:  # mixed types: read them as text, as a CSV reader would
            y = y.astype(str)
    elif np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)):
            raise ValueError("class labels have missing or infinite value(s)")
        if np.any(y != np.round(y)):
            bad = _plain(y[y != np.round(y)][0])
            raise ValueError(
                f"class labels must be integers or strings; {bad!r} is not a whole number "
                f"(a continuous target belongs to the regression task)"
            )
        y = y.astype(np.int64)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            "a classification needs at least 2 classes; the labels hold only "
            f"{_plain(classes[0])!r}"
        )
    return classes, codes.astype(np.int64)


@dataclass
class ClassSplit:
    """Inputs ``X`` (N rows, modality-specific) and class codes ``y`` (N,) int64 in 0..C-1."""

    X: Any
    y: np.ndarray

    def __post_init__(self):
        self.y = np.asarray(self.y, dtype=np.int64)
        if len(self.X) != self.y.size:
            raise ValueError(f"X has {len(self.X)} rows but y has {self.y.size} labels")

    def __len__(self) -> int:
        return self.y.size


@dataclass
class LTDataset:
    """A long-tailed classification benchmark: train / val / test, the class names (``classes``,
    index = code), the training count and region of each class."""

    name: str
    modality: str
    train: ClassSplit
    val: ClassSplit
    test: ClassSplit
    classes: np.ndarray
    thresholds: tuple[int, int] = CLASS_THRESHOLDS
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        C = len(self.classes)
        for part in ("train", "val", "test"):
            split = getattr(self, part)
            if len(split) == 0:
                raise ValueError(f"data set {self.name!r} has an empty {part} split")
            if split.y.min() < 0 or split.y.max() >= C:
                raise ValueError(f"{part} class codes must lie in 0..{C - 1}")

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def train_counts(self) -> np.ndarray:
        return np.bincount(self.train.y, minlength=self.n_classes)

    @property
    def region_of_class(self) -> np.ndarray:
        return class_regions(self.train_counts, self.thresholds)

    def summary(self) -> dict:
        counts = self.train_counts
        return {
            "name": self.name,
            "modality": self.modality,
            "n_classes": self.n_classes,
            "classes": [_plain(c) for c in self.classes],
            "n_train": len(self.train),
            "n_val": len(self.val),
            "n_test": len(self.test),
            "train_counts": counts.tolist(),
            "imbalance_factor": float(counts.max() / counts.min()),
            "regions": {r: int((self.region_of_class == r).sum()) for r in REGIONS},
            **self.info,
        }


def make_long_tailed(
    X,
    y,
    *,
    name: str,
    modality: str = "tabular",
    imbalance_factor: float | None = 100.0,
    n_test: int = 100,
    n_val: int = 20,
    n_max: int | None = None,
    random_state: int = 0,
    thresholds: tuple[int, int] = CLASS_THRESHOLDS,
) -> LTDataset:
    """Build an :class:`LTDataset` from all rows ``X`` (indexable by an int array) and labels
    ``y`` (integers or strings) by the protocol of the module docstring.

    ``imbalance_factor`` None keeps each class's remaining rows as they are (the data's own
    profile, for a CSV that is already imbalanced). A class with fewer than ``n_test + n_val + 1``
    rows is refused, naming it.
    """
    classes, codes = encode_classes(y)
    if len(X) != codes.size:
        raise ValueError(f"X has {len(X)} rows but y has {codes.size} labels")
    for what, v in (("n_test", n_test), ("n_val", n_val)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{what} must be a positive integer, got {v!r}")
    have = np.bincount(codes, minlength=classes.size)
    need = n_test + n_val + 1
    short = [(_plain(classes[k]), int(have[k])) for k in range(classes.size) if have[k] < need]
    if short:
        listed = ", ".join(f"{c!r} ({n} row{'s' * (n != 1)})" for c, n in short)
        raise ValueError(
            f"each class needs at least {need} rows ({n_test} test + {n_val} validation + 1 "
            f"training); too few in class {listed}"
        )
    rng = np.random.default_rng(random_state)
    perms = [rng.permutation(np.flatnonzero(codes == k)) for k in range(classes.size)]
    left = np.array([p.size - n_test - n_val for p in perms])
    if imbalance_factor is None:
        if n_max is not None:
            raise ValueError("n_max applies only with an imbalance_factor")
        counts = left
    else:
        n_max = int(left.min()) if n_max is None else n_max
        counts = long_tail_counts(n_max, classes.size, imbalance_factor)
        over = np.flatnonzero(counts > left)
        if over.size:
            k = over[0]
            raise ValueError(
                f"n_max = {n_max} asks class {_plain(classes[k])!r} for {counts[k]} training "
                f"rows but it has {left[k]} after its test and validation rows"
            )
    parts = {"test": [], "val": [], "train": []}
    for k, p in enumerate(perms):
        parts["test"].append(p[:n_test])
        parts["val"].append(p[n_test : n_test + n_val])
        parts["train"].append(p[n_test + n_val : n_test + n_val + counts[k]])
    splits = {}
    for part, chunks in parts.items():
        idx = np.sort(np.concatenate(chunks))
        splits[part] = ClassSplit(X[idx], codes[idx])
    info = {
        "profile": "exponential" if imbalance_factor is not None else "as read",
        "requested_imbalance_factor": imbalance_factor,
        "random_state": random_state,
        "n_test_per_class": n_test,
        "n_val_per_class": n_val,
    }
    return LTDataset(name, modality, splits["train"], splits["val"], splits["test"], classes,
                     thresholds, info)  # fmt: skip
