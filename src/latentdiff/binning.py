"""The one definition of label bins and of "rare" (shot regions) in the project.

Every method, the evaluation protocol and the generator use :class:`Bins` and
:class:`ShotRegions`; nothing else bins labels.

* Equal-width bins over a label range, eq. 14 of seed 000:
  ``e_k = y_min + k (y_max - y_min) / K``, ``b(y) = floor((y - y_min) / (y_max - y_min) * K)``,
  centres ``c_k = (e_k + e_{k+1}) / 2``. ``y_max`` itself goes to the last bin.
* Generation bins of LatentDiff (:class:`GenerationBins`) are eq. 14's bins with two rules for
  labels as users have them (ratings, counts, grades): bins are never narrower than the labels'
  resolution (:func:`label_resolution`), and discrete labels (at most
  :data:`DISCRETE_MAX_VALUES` distinct values) condition on a label that occurs in the bin instead
  of its centre. Continuous labels get eq. 14 unchanged.
* Shot regions from the *training* count of each bin (seed 004, sec. 4): many if the count is
  above ``many``, few if below ``few``, medium otherwise. DIR uses 100 / 20; LatentDiff's appendix B
  states 70 / 30. Bins with no training sample are few (zero-shot is the extreme of few).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import memory
from .validation import check_labels

REGIONS: tuple[str, ...] = ("many", "medium", "few")

#: Fraction of a bin width below an edge within which a label counts as lying on the edge.
EDGE_TOLERANCE = 1e-9


def _require_memory(n_bins: int, what: str) -> None:
    """Bins cost a few float64 and int64 arrays of length K (edges, centres, counts, regions)."""
    memory.require(64 * n_bins, what, "use fewer bins")


@dataclass(frozen=True)
class Bins:
    """Equal-width label bins (eq. 14, seed 000).

    Parameters
    ----------
    edges : array of shape (K + 1,)
        Increasing, equally spaced bin edges.
    """

    edges: np.ndarray

    def __post_init__(self):
        edges = np.asarray(self.edges, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2:
            raise ValueError("Bins need at least two edges")
        if not np.all(np.isfinite(edges)) or not np.all(np.diff(edges) > 0):
            raise ValueError("bin edges must be finite and strictly increasing")
        object.__setattr__(self, "edges", edges)

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_range(
        cls,
        low: float,
        high: float,
        n_bins: int | None = None,
        bin_width: float | None = None,
    ) -> Bins:
        """Bins over ``[low, high]`` given either ``n_bins`` (K) or ``bin_width``.

        With ``bin_width`` the number of bins is ``ceil((high - low) / bin_width)`` (at least 1) and
        the last edge may lie above ``high``.
        """
        if (n_bins is None) == (bin_width is None):
            raise ValueError("give exactly one of n_bins or bin_width")
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"label range must be finite, got [{low}, {high}]")
        if not high > low:
            raise ValueError(
                f"label range [{low}, {high}] is empty: a constant target cannot be binned; "
                "a regression target needs at least two distinct values"
            )
        if n_bins is not None:
            if int(n_bins) != n_bins or n_bins < 1:
                raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
            _require_memory(int(n_bins), f"n_bins = {int(n_bins):,}")
            # eq. 14, e_k = y_min + k (y_max - y_min) / K, computed as np.histogram does
            return cls(np.linspace(low, high, int(n_bins) + 1))
        if not (bin_width > 0 and math.isfinite(bin_width)):
            raise ValueError(f"bin_width must be a positive number, got {bin_width!r}")
        n = max(1, math.ceil((high - low) / bin_width - 1e-9))
        _require_memory(n, f"bin_width = {bin_width} over [{low}, {high}] ({n:,} bins)")
        return cls(low + np.arange(n + 1) * float(bin_width))

    @classmethod
    def fit(
        cls,
        y,
        n_bins: int | None = None,
        bin_width: float | None = None,
        label_range: tuple[float, float] | None = None,
    ) -> Bins:
        """Bins over the range of the training labels ``y`` (or an explicit ``label_range``)."""
        if label_range is None:
            y = check_labels(y)
            label_range = (float(y.min()), float(y.max()))
        return cls.from_range(*label_range, n_bins=n_bins, bin_width=bin_width)

    # --- properties ---------------------------------------------------------------------------
    @property
    def n_bins(self) -> int:
        return self.edges.size - 1

    @property
    def width(self) -> float:
        return float(self.edges[1] - self.edges[0])

    @property
    def centers(self) -> np.ndarray:
        """Bin centres ``c_k = (e_k + e_{k+1}) / 2`` (eq. 14)."""
        return (self.edges[:-1] + self.edges[1:]) / 2

    @property
    def low(self) -> float:
        return float(self.edges[0])

    @property
    def high(self) -> float:
        return float(self.edges[-1])

    # --- use ----------------------------------------------------------------------------------
    def assign(self, y, clip: bool = True) -> np.ndarray:
        """Bin index of each label, ``floor((y - e_0) / width)``.

        The top edge belongs to the last bin. Labels outside the range go to the nearest end bin
        when ``clip`` (a test label beyond the training range is as rare as the end bin); with
        ``clip=False`` they raise.
        """
        y = check_labels(y)
        e, k = self.edges, self.n_bins
        # A label on an edge that binary floating point cannot hold exactly (0.6 with width 0.1,
        # 0.6 / 0.1 = 5.999...) belongs to the upper bin, as in the DIR reference (float32 labels
        # against float32 edges): labels within 1e-9 bin widths below an edge count as on it.
        idx = np.floor((y - e[0]) / self.width + EDGE_TOLERANCE).astype(np.int64)
        idx[y == e[-1]] = k - 1
        outside = (y < e[0]) | (y > e[-1])
        if outside.any() and not clip:
            v = y[np.flatnonzero(outside)[0]]
            raise ValueError(
                f"{int(outside.sum())} label(s) outside the bin range "
                f"[{self.low:g}, {self.high:g}] (e.g. {v:g})"
            )
        return np.clip(idx, 0, k - 1)

    def counts(self, y) -> np.ndarray:
        """Number of labels in each bin, shape (K,)."""
        return np.bincount(self.assign(y), minlength=self.n_bins)

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "n_bins": self.n_bins, "width": self.width}


#: Labels with at most this many distinct values are *discrete* (ratings 1-5, quality scores
#: 3-9, small counts): a generation bin conditions on a label that occurs in it, not its centre.
#: Above it (ages 0-100 have about 100 distinct values, prices in dollars thousands) labels count
#: as continuous and keep eq. 14's bin centres, as in seed 000.
DISCRETE_MAX_VALUES = 50

#: Labels spanning more lattice steps than this count as continuous for :func:`label_resolution`
#: (so fine a lattice never binds: it would take more bins than this).
LATTICE_MAX_STEPS = 100_000

#: A gap between distinct labels is a whole number of lattice steps if within this many steps.
LATTICE_TOLERANCE = 1e-3


def label_resolution(y) -> float:
    """The smallest label difference that means something, 0.0 for continuous labels.

    * Labels with at most :data:`DISCRETE_MAX_VALUES` distinct values: the smallest positive gap
      between sorted distinct values (ratings 1-5: 1; grades 0, 0.5, 2, 5: 0.5).
    * Labels on a lattice (every gap between sorted distinct values is a whole number of steps of
      the smallest gap, within :data:`LATTICE_TOLERANCE` of a step, and the range spans at most
      :data:`LATTICE_MAX_STEPS` steps): the lattice step (integer ages, counts, whole dollars: 1).
    * Otherwise 0.0: the labels are continuous.

    Only the differences between labels enter, so negative labels and labels with a large
    constant offset (10,000 + small spread) get the same resolution as the shifted labels up to
    float64 rounding. A constant target has resolution 0.0.
    """
    u = np.unique(check_labels(y))
    if u.size < 2:
        return 0.0
    gaps = np.diff(u)
    smallest = float(gaps.min())
    if u.size <= DISCRETE_MAX_VALUES:
        return smallest
    span = float(u[-1] - u[0])
    steps = round(span / smallest)
    if steps > LATTICE_MAX_STEPS:
        return 0.0
    step = span / steps  # the lattice step from the whole range: less rounding than one gap
    q = gaps / step
    return step if bool(np.all(np.abs(q - np.round(q)) <= LATTICE_TOLERANCE)) else 0.0


def is_discrete(y) -> bool:
    """Whether ``y`` has at most :data:`DISCRETE_MAX_VALUES` distinct values."""
    return int(np.unique(check_labels(y)).size) <= DISCRETE_MAX_VALUES


@dataclass(frozen=True)
class GenerationBins:
    """LatentDiff's generation bins and the label each bin conditions on.

    Build with :meth:`fit`. The rule, for K requested bins over training labels with range
    ``[y_min, y_max]`` and resolution ``r`` (:func:`label_resolution`):

    * **Width.** Eq. 14's K equal-width bins over ``[y_min, y_max]``, unless they would be narrower
      than ``r`` (``(y_max - y_min) / K < r``, e.g. ratings 1-5 with K = 20). Then there are
      fewer bins, ``n = floor((y_max - y_min) / r) + 1``, of equal width
      ``(y_max - y_min + r) / n >= r`` over ``[y_min - r / 2, y_max + r / 2]``: for labels on a
      lattice that is one bin per lattice value, centred on it (ratings 1-5: 5 bins, centres
      1, ..., 5). Bins are never narrower than the resolution, and a lattice value never lies on
      an edge.
    * **Condition.** Continuous labels condition on the bin centres (eq. 14, unchanged). Discrete
      labels (at most :data:`DISCRETE_MAX_VALUES` distinct values, :func:`is_discrete`) condition
      on the *lower median* of the bin's training labels, a value that occurs (the value itself
      when a bin holds one value); an empty bin keeps its centre (it gets no synthetic sample:
      priority 0). So a synthetic label is always a training label for discrete data.

    Attributes
    ----------
    bins : Bins
    labels : array of shape (K,)
        The label each bin conditions on (and that its synthetic samples carry).
    resolution : float
        ``label_resolution`` of the training labels (0.0: continuous).
    discrete : bool
    """

    bins: Bins
    labels: np.ndarray
    resolution: float
    discrete: bool

    @classmethod
    def fit(cls, y, n_bins: int) -> GenerationBins:
        if isinstance(n_bins, bool) or int(n_bins) != n_bins or n_bins < 1:
            raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
        y = check_labels(y)
        resolution = label_resolution(y)
        low, high = float(y.min()), float(y.max())
        if resolution > 0 and (high - low) / n_bins < resolution:
            n = math.floor((high - low) / resolution + 1e-9) + 1
            half = resolution / 2
            bins = Bins.from_range(low - half, high + half, n_bins=n)
        else:
            bins = Bins.fit(y, n_bins=n_bins)  # eq. 14 as written
        discrete = is_discrete(y)
        labels = bins.centers
        if discrete:
            labels = labels.copy()
            b = bins.assign(y)
            order = np.lexsort((y, b))  # by bin, then by label
            counts = np.bincount(b, minlength=bins.n_bins)
            start = np.concatenate([[0], np.cumsum(counts)[:-1]])
            full = counts > 0
            labels[full] = y[order][start[full] + (counts[full] - 1) // 2]  # lower median
        return cls(bins, labels, resolution, discrete)

    def to_dict(self) -> dict:
        return {
            "bins": self.bins.to_dict(),
            "labels": self.labels.tolist(),
            "resolution": self.resolution,
            "discrete": self.discrete,
        }


@dataclass(frozen=True)
class ShotThresholds:
    """Many if the training count of a bin is ``> many``; few if ``< few``; medium otherwise."""

    many: int = 100
    few: int = 20
    name: str = "dir"

    def __post_init__(self):
        if self.few < 0 or self.many < self.few:
            raise ValueError(
                f"shot thresholds need 0 <= few <= many, got few={self.few}, many={self.many}"
            )

    def describe(self) -> str:
        return f"{self.name}: many > {self.many}, few < {self.few} training samples per bin"


DIR_THRESHOLDS = ShotThresholds(100, 20, "dir")
LATENTDIFF_THRESHOLDS = ShotThresholds(70, 30, "latentdiff")
THRESHOLDS = {"dir": DIR_THRESHOLDS, "latentdiff": LATENTDIFF_THRESHOLDS}


def regions_from_counts(counts, thresholds: ShotThresholds = DIR_THRESHOLDS) -> np.ndarray:
    """Region name of each bin from its training count."""
    counts = np.asarray(counts)
    out = np.full(counts.shape, "medium", dtype=object)
    out[counts > thresholds.many] = "many"
    out[counts < thresholds.few] = "few"
    return out


@dataclass(frozen=True)
class ShotRegions:
    """Which region (many / medium / few) each label bin belongs to.

    Build with :meth:`from_training_labels` (count rule) or :meth:`from_lists` (a benchmark's fixed
    lists). ``description`` says which, for every table.
    """

    bins: Bins
    region_of_bin: np.ndarray
    description: str
    train_counts: np.ndarray | None = field(default=None)

    def __post_init__(self):
        r = np.asarray(self.region_of_bin, dtype=object)
        if r.shape != (self.bins.n_bins,):
            raise ValueError(f"need one region per bin ({self.bins.n_bins}), got shape {r.shape}")
        unknown = set(r.tolist()) - set(REGIONS)
        if unknown:
            raise ValueError(f"unknown region name(s) {sorted(unknown)}; expected {REGIONS}")
        object.__setattr__(self, "region_of_bin", r)

    @classmethod
    def from_training_labels(
        cls, y_train, bins: Bins, thresholds: ShotThresholds = DIR_THRESHOLDS
    ) -> ShotRegions:
        counts = bins.counts(y_train)
        return cls(bins, regions_from_counts(counts, thresholds), thresholds.describe(), counts)

    @classmethod
    def from_lists(
        cls,
        bins: Bins,
        many: Sequence[int],
        medium: Sequence[int],
        description: str,
        train_counts=None,
    ) -> ShotRegions:
        """Fixed lists of bin indices for many and medium; every other bin is few."""
        r = np.full(bins.n_bins, "few", dtype=object)
        r[list(medium)] = "medium"
        r[list(many)] = "many"
        if set(many) & set(medium):
            raise ValueError("a bin cannot be both many and medium")
        return cls(bins, r, description, train_counts)

    def of(self, y) -> np.ndarray:
        """Region name of each label (labels outside the bin range take the end bin's region)."""
        return self.region_of_bin[self.bins.assign(y)]

    def to_dict(self) -> dict:
        return {
            "description": self.description,
            "bins": self.bins.to_dict(),
            "region_of_bin": self.region_of_bin.tolist(),
            "train_counts": None if self.train_counts is None else self.train_counts.tolist(),
        }
