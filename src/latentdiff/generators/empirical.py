"""Generators estimated from the real features of each generation bin, with nothing to train:
the shared part of ``gaussian`` (:mod:`latentdiff.generators.gaussian`) and ``interp``
(:mod:`latentdiff.generators.interp`).

A *bin* is one condition value: the sampler conditions on bin labels, so the rows of one bin
share one value of ``c``. Features are standardised with the per-dimension mean and std of all
training rows (the std floored at 1e-6, as :class:`latentdiff.generators.base.FeatureGenerator`
does), so that a shrinkage target and a nearest-neighbour distance weigh every dimension alike;
samples come back in feature units.

**Borrowing** (:func:`borrowed_rows`). A bin with fewer than ``min_rows`` rows (a setting of each
generator) keeps all of its own rows and borrows the missing ones from the other bins nearest to
it by label, one distance at a time: the bins at the nearest distance first (with equal-width bins
the left and right neighbours are equally near and share the need evenly, so the borrowed rows
do not pull the bin to one side), rows drawn at random without replacement within each bin, a
bin with too few rows giving all it has and the rest going to the others of its distance, then
the next distance if rows are still missing. Only as many rows as are missing are borrowed, so
a rare bin next to a crowded one keeps its own rows' weight (all of a crowded neighbour would
swamp them). A condition that no training row has (an empty bin) borrows all ``min_rows`` rows
this way. Which rows are borrowed depends only on the fit's seed and the condition value, so
``sample`` is deterministic given its own seed.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..params import Settings
from ..validation import check_labels
from .protocol import ConditionalGenerator


def _seed(random_state: int | None) -> int:
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])  # fresh OS entropy
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ValueError(f"random_state must be an integer or None, got {random_state!r}")
    return int(random_state)


def _even_split(need: int, capacity: np.ndarray) -> np.ndarray:
    """``need`` items spread as evenly as possible over bins of ``capacity`` (the earlier bins
    take the remainder; a full bin passes its share on to the others)."""
    take = np.zeros(capacity.size, dtype=np.int64)
    while need > 0:
        open_ = np.flatnonzero(take < capacity)
        if open_.size == 0:
            break
        q, r = divmod(need, open_.size)
        share = np.full(open_.size, q) + (np.arange(open_.size) < r)
        give = np.minimum(share, capacity[open_] - take[open_])
        take[open_] += give
        need -= int(give.sum())
    return take


def borrowed_rows(
    value: float,
    conditions: np.ndarray,
    rows_of: list[np.ndarray],
    min_rows: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(own rows, borrowed rows) of the bin whose condition is ``value``, under the rule of
    the module's docstring. ``conditions`` are the fitted bins' values (sorted, unique) and
    ``rows_of[k]`` the training rows of bin k. Fewer rows than ``min_rows`` in all bins
    together: every row."""
    k = np.searchsorted(conditions, value)
    has = k < conditions.size and conditions[k] == value
    own = rows_of[k] if has else np.empty(0, dtype=np.int64)
    need = min_rows - own.size
    borrowed: list[np.ndarray] = []
    if need > 0:
        others = np.array([j for j in range(conditions.size) if not (has and j == k)], dtype=int)
        dist = np.abs(conditions[others] - value)
        for d in np.unique(dist):
            ring = others[dist == d]  # ascending label order
            take = _even_split(need, np.array([rows_of[j].size for j in ring]))
            for j, t in zip(ring, take, strict=True):
                if t:
                    borrowed.append(rng.choice(rows_of[j], size=int(t), replace=False))
            need -= int(take.sum())
            if need <= 0:
                break
    rest = np.sort(np.concatenate(borrowed)) if borrowed else np.empty(0, dtype=np.int64)
    return own, rest


class BinnedGenerator(ConditionalGenerator):
    """A generator p(z | c) fitted on each bin's real features (one bin per condition value),
    with nothing trained (``trains = False``): no loss history, no checkpoint, no export.

    Parameters
    ----------
    config : settings of the generator (``config_class``), a mapping of them, or None for the
        defaults.
    random_state : int, optional
        Seed of the fit (which rows a small bin borrows). None: fresh entropy.

    After ``fit``: ``conditions_`` (the bins' condition values, sorted), ``bin_sizes_`` (own
    rows per bin), ``borrowed_`` (rows each bin borrowed), ``n_features_in_``, ``z_mean_``,
    ``z_std_``.
    """

    trains: ClassVar[bool] = False
    config_class: ClassVar[type[Settings]]

    def __init__(self, config=None, random_state: int | None = 0) -> None:
        if config is None:
            config = self.config_class()
        elif not isinstance(config, self.config_class):
            config = self.config_class.from_dict(config)
        self.config = config
        self.random_state = random_state

    # --- what a generator implements ------------------------------------------------------
    @abstractmethod
    def _fit_bin(self, z: np.ndarray):
        """What the generator keeps of one bin, from its standardised rows ``z`` (n, m), n >= 2
        (unless all training rows together are fewer than the minimum)."""

    @abstractmethod
    def _sample_bin(self, fitted, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` standardised features (n, m) of one bin from what :meth:`_fit_bin` kept."""

    # --- shared -----------------------------------------------------------------------------
    def fit(self, Z, c) -> BinnedGenerator:
        """Fit every bin (condition value) of features Z (N, m) conditioned on c (N,)."""
        self._z, c = self._check_and_standardise(Z, c)
        self.conditions_, inverse = np.unique(c, return_inverse=True)
        self._rows_of = [np.flatnonzero(inverse == k) for k in range(self.conditions_.size)]
        self._seed_ = _seed(self.random_state)
        self.bin_sizes_ = np.array([r.size for r in self._rows_of], dtype=np.int64)
        self._fitted, borrowed = [], []
        for value in self.conditions_:
            fitted, n_borrowed = self._fit_condition(value)
            self._fitted.append(fitted)
            borrowed.append(n_borrowed)
        self.borrowed_ = np.array(borrowed, dtype=np.int64)
        return self

    def _fit_condition(self, value: float):
        """What :meth:`_fit_bin` keeps for the bin of ``value`` (its own rows and those it
        borrows), and the number of rows borrowed."""
        rng = np.random.default_rng([self._seed_, int(np.float64(value).view(np.uint64))])
        own, more = borrowed_rows(value, self.conditions_, self._rows_of, self.config.min_rows, rng)
        return self._fit_bin(self._z[np.concatenate([own, more])]), int(more.size)

    def sample(self, c, batch_size: int = 1024, random_state: int | None = None) -> np.ndarray:
        """One feature vector per condition value in ``c`` (label units) -> (n, m) float32,
        deterministic given ``random_state``. A value no training row had is an empty bin and
        borrows all of its rows. ``batch_size`` is checked but has no effect (each bin's rows
        are drawn at once; the argument is the trained generators')."""
        if not hasattr(self, "_fitted"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(Z, c) first")
        c = check_labels(c, "c", allow_empty=True)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        rng = np.random.default_rng(_seed(random_state))
        out = np.empty((c.size, self.n_features_in_))
        values, inverse = np.unique(c, return_inverse=True)
        for k, value in enumerate(values):
            i = np.searchsorted(self.conditions_, value)
            known = i < self.conditions_.size and self.conditions_[i] == value
            fitted = self._fitted[i] if known else self._fit_condition(value)[0]
            idx = np.flatnonzero(inverse == k)
            out[idx] = self._sample_bin(fitted, idx.size, rng)
        return (out * self.z_std_ + self.z_mean_).astype(np.float32)

    def export(self, path, metadata: dict | None = None) -> Path:
        """Refused: nothing is trained (the statistics are re-estimated from the features in
        one pass), so there is nothing for another fit to start from."""
        raise ValueError(
            f"the {self.name} generator has nothing trained to export: it is estimated from the "
            f"real features in one pass; fit it on the new features instead of transferring it"
        )
