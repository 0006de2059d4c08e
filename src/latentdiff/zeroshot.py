"""Zero-shot label ranges (seed 004, sec. 4.2, Table 6): curated label ranges with no training
data, inside the training range (interpolation) or beyond it (extrapolation), whose test rows are
kept and scored as regions of their own.

A specification is a comma-separated list of ``KIND=LO:HI`` items, ``KIND`` ``interp`` or
``extrap``, the range closed, ``[LO, HI]``:

* ``LO`` / ``HI`` a label value (``2.4``), or a percentage of the training label range
  (``40%``: ``y_min + 0.40 (y_max - y_min)``, the range of the training split before anything is
  removed);
* an ``extrap`` range may leave one end open (``extrap=4.2:`` up to the largest label,
  ``extrap=:0.6`` down to the smallest).

Rules, checked against the training labels before any training (a ValueError naming the item):
``LO < HI``; ranges do not overlap; every range holds at least one training label and one test
label (a range with nothing to remove or nothing to score measures nothing); an ``interp`` range
keeps training labels on both sides of it; an ``extrap`` range has none beyond it (it reaches an
end of the training labels); at least one training row remains.

The protocol (:func:`split_masks`): training *and validation* rows in the ranges are removed
(validation too, so that neither early stopping nor a method's choice on validation ever sees a
label there: the ranges are truly unseen); test rows are kept. The evaluation bins stay those
of the full training range (the same bins as without the ranges), so the region counts are the
remaining training rows' counts per bin.

Regions (:func:`region_labels`): a test row in an ``interp`` range is ``zero-shot-interp``, in
an ``extrap`` range ``zero-shot-extrap``; every other row keeps its many / medium / few region
(so those regions hold rows with training data only, as seed 004's Table 18 separates Few from
Zero), and ``with-data`` is their union (Table 6's "w/ data"). ``all`` is every test row, the
zero-shot ones included, as Table 6's "All".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .validation import check_labels

KINDS: tuple[str, ...] = ("interp", "extrap")
#: the extra regions a zero-shot protocol reports, after all / many / medium / few
ZERO_SHOT_REGIONS: tuple[str, ...] = ("with-data", "zero-shot-interp", "zero-shot-extrap")
REGION_OF_KIND = {"interp": "zero-shot-interp", "extrap": "zero-shot-extrap"}


@dataclass(frozen=True)
class Bound:
    """One end of a range as written: a label value, a percentage of the label range, or open."""

    value: float | None  # None: open (extrap only)
    percent: bool = False

    def resolve(self, low: float, high: float, default: float) -> float:
        if self.value is None:
            return default
        return low + self.value / 100 * (high - low) if self.percent else self.value

    def text(self) -> str:
        if self.value is None:
            return ""
        return f"{self.value:g}%" if self.percent else f"{self.value:g}"


@dataclass(frozen=True)
class ZeroShotRange:
    """One curated range as written in the specification."""

    kind: str
    lo: Bound
    hi: Bound

    def text(self) -> str:
        return f"{self.kind}={self.lo.text()}:{self.hi.text()}"


def _bound(text: str, item: str, kind: str) -> Bound:
    text = text.strip()
    if text == "":
        if kind != "extrap":
            raise ValueError(
                f"zero-shot range {item!r}: an interp range needs both ends (only an extrap "
                "range may leave one open)"
            )
        return Bound(None)
    percent = text.endswith("%")
    try:
        v = float(text[:-1] if percent else text)
    except ValueError:
        raise ValueError(
            f"zero-shot range {item!r}: {text!r} is neither a label value nor a percentage "
            "(e.g. 2.4 or 40%)"
        ) from None
    if not math.isfinite(v):
        raise ValueError(f"zero-shot range {item!r}: {text!r} is not finite")
    if percent and not 0 <= v <= 100:
        raise ValueError(f"zero-shot range {item!r}: a percentage must lie in [0, 100]")
    return Bound(v, percent)


def parse_spec(spec: str) -> tuple[ZeroShotRange, ...]:
    """The ranges of a specification (see the module's docstring); a ValueError names a bad
    item. Checks that need no labels are done here (kinds, numbers, LO < HI when both are of
    one sort)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("zero-shot specification is empty; e.g. 'interp=2.4:3.1,extrap=4.2:'")
    out = []
    for item in spec.split(","):
        item = item.strip()
        kind, sep, rng = item.partition("=")
        kind = kind.strip().lower()
        if not sep or kind not in KINDS:
            raise ValueError(
                f"zero-shot range {item!r}: expected KIND=LO:HI with KIND one of "
                f"{', '.join(KINDS)} (e.g. interp=2.4:3.1, extrap=90%:)"
            )
        lo_text, sep, hi_text = rng.partition(":")
        if not sep:
            raise ValueError(f"zero-shot range {item!r}: expected LO:HI after '='")
        lo, hi = _bound(lo_text, item, kind), _bound(hi_text, item, kind)
        if lo.value is None and hi.value is None:
            raise ValueError(f"zero-shot range {item!r}: both ends open would remove every row")
        both = lo.value is not None and hi.value is not None and lo.percent == hi.percent
        if both and not lo.value < hi.value:
            raise ValueError(f"zero-shot range {item!r}: LO must be below HI")
        out.append(ZeroShotRange(kind, lo, hi))
    return tuple(out)


@dataclass(frozen=True)
class ZeroShot:
    """Resolved zero-shot ranges: label intervals ``[lo, hi]`` and their kinds, fitted to the
    training labels (:meth:`fit`)."""

    spec: str
    kinds: tuple[str, ...]
    intervals: tuple[tuple[float, float], ...]

    @classmethod
    def fit(cls, spec: str, y_train, y_test) -> ZeroShot:
        """Resolve ``spec`` against the training labels (before removal) and check every rule
        of the module's docstring against them and the test labels."""
        ranges = parse_spec(spec)
        y_train = check_labels(y_train, "training labels")
        y_test = check_labels(y_test, "test labels")
        low, high = float(y_train.min()), float(y_train.max())
        intervals = []
        for r in ranges:
            a = r.lo.resolve(low, high, -math.inf)
            b = r.hi.resolve(low, high, math.inf)
            if not a < b:
                raise ValueError(f"zero-shot range {r.text()!r}: resolves to [{a:g}, {b:g}], empty")
            intervals.append((a, b))
        order = np.argsort([a for a, _ in intervals])
        for i, j in zip(order[:-1], order[1:], strict=True):
            if intervals[j][0] <= intervals[i][1]:
                raise ValueError(
                    f"zero-shot ranges {ranges[i].text()!r} and {ranges[j].text()!r} overlap"
                )
        zs = cls(spec, tuple(r.kind for r in ranges), tuple(intervals))
        inside = zs.masks(y_train)
        for r, (a, b), m in zip(ranges, intervals, inside, strict=True):
            where = f"zero-shot range {r.text()!r} ([{a:g}, {b:g}])"
            if not m.any():
                raise ValueError(
                    f"{where} holds no training label (labels span [{low:g}, {high:g}]): "
                    "nothing to remove"
                )
            if not ((y_test >= a) & (y_test <= b)).any():
                raise ValueError(f"{where} holds no test label: the region could not be scored")
            below, above = (y_train < a).any(), (y_train > b).any()
            if r.kind == "interp" and not (below and above):
                raise ValueError(
                    f"{where} reaches an end of the training labels [{low:g}, {high:g}]: it is "
                    "an extrapolation range (extrap=...), not an interpolation gap"
                )
            if r.kind == "extrap" and below and above:
                raise ValueError(
                    f"{where} lies inside the training labels [{low:g}, {high:g}] with labels on "
                    "both sides: it is an interpolation gap (interp=...); an extrapolation range "
                    "reaches the smallest or the largest label"
                )
        if np.logical_or.reduce(inside).all():
            raise ValueError(f"zero-shot ranges {spec!r} remove every training row")
        return zs

    def masks(self, y) -> list[np.ndarray]:
        """One boolean mask per range: the labels inside it (closed)."""
        y = np.asarray(y, dtype=np.float64)
        return [(y >= a) & (y <= b) for a, b in self.intervals]

    def inside(self, y) -> np.ndarray:
        """Labels in any range."""
        y = np.asarray(y, dtype=np.float64)
        return np.logical_or.reduce([np.zeros(y.shape, bool), *self.masks(y)])

    def region_labels(self, y, shot_regions: np.ndarray) -> np.ndarray:
        """``shot_regions`` (many / medium / few per label) with the labels in a range renamed
        ``zero-shot-interp`` / ``zero-shot-extrap``."""
        out = np.asarray(shot_regions, dtype=object).copy()
        for kind, m in zip(self.kinds, self.masks(y), strict=True):
            out[m] = REGION_OF_KIND[kind]
        return out

    def to_dict(self) -> dict:
        return {
            "spec": self.spec,
            "ranges": [
                {"kind": k, "low": _finite(a), "high": _finite(b)}
                for k, (a, b) in zip(self.kinds, self.intervals, strict=True)
            ],
            "protocol": "training and validation rows in the ranges removed, test rows kept",
        }


def _finite(v: float) -> float | None:
    """JSON has no infinity: an open end is None."""
    return None if math.isinf(v) else v


def split_masks(zs: ZeroShot, y_train, y_val) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the training and validation splits to keep (outside every range)."""
    return ~zs.inside(y_train), ~zs.inside(y_val)


def region_labels(dataset, y) -> np.ndarray:
    """The region of each label of ``dataset``: its shot region, or its zero-shot region when the
    data set has zero-shot ranges (``dataset.zero_shot``)."""
    shot = dataset.regions.of(y)
    zs = getattr(dataset, "zero_shot", None)
    return shot if zs is None else zs.region_labels(y, shot)
