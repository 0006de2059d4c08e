"""``interp``: SMOTE (Chawla et al., 2002, sec. 4.2) in feature space, per generation bin:
z = z_i + u (z_j - z_i), u ~ U(0, 1), with z_i a random real feature of the bin and z_j another
one (issue 11; a cheap stand-in for the diffusion model).

j is one of the ``k_neighbors`` (default 5, SMOTE's own) nearest rows of i within its bin, by
Euclidean distance in standardised feature units, as SMOTE and SMOTER draw it: a bin's features
need not be one blob (the network maps a label range to several regions), and a segment between
two distant rows would cross the empty space between them, where no real feature of that label
lies. ``k_neighbors = None`` draws j uniformly among the bin's other rows (more spread, the
convex hull of the bin). A bin with fewer than ``min_rows`` rows (default 2, the fewest a segment
needs) borrows rows from its nearest bins by label
(:func:`latentdiff.generators.empirical.borrowed_rows`), and i and j are drawn among its own and
borrowed rows alike. Every sample lies on a segment between two real rows of its bin's pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ..settings import InterpConfig
from .empirical import BinnedGenerator


@dataclass(frozen=True)
class BinRows:
    """The rows of one bin's pool (standardised units) and, with ``k_neighbors``, each row's
    nearest other rows (indices into ``z``, (n, k)); None: any other row."""

    z: np.ndarray  # (n, m)
    neighbours: np.ndarray | None  # (n, k)


def nearest_others(z: np.ndarray, k: int) -> np.ndarray:
    """Indices (n, min(k, n - 1)) of each row's nearest other rows (a row is never its own
    neighbour, even when it has duplicates)."""
    k = min(k, z.shape[0] - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(z)
    idx = nn.kneighbors(z, return_distance=False)  # (n, k + 1), usually itself first
    others = idx != np.arange(z.shape[0])[:, None]  # (n, k + 1); all True where a duplicate won
    order = np.argsort(~others, axis=1, kind="stable")  # the other rows first, in distance order
    return np.take_along_axis(idx, order, axis=1)[:, :k].astype(np.int64)


class FeatureInterp(BinnedGenerator):
    """Per-bin interpolation p(z | c) between real features (settings:
    :class:`latentdiff.settings.InterpConfig`)."""

    name = "feature-interp"
    config_class = InterpConfig

    def _fit_bin(self, z: np.ndarray) -> BinRows:
        k = self.config.k_neighbors
        return BinRows(z, None if k is None else nearest_others(z, k))

    def _sample_bin(self, fitted: BinRows, n: int, rng: np.random.Generator) -> np.ndarray:
        rows = fitted.z.shape[0]
        i = rng.integers(rows, size=n)  # (n,)
        if fitted.neighbours is None:  # uniform over the other rows
            j = (i + rng.integers(1, rows, size=n)) % rows
        else:
            j = fitted.neighbours[i, rng.integers(fitted.neighbours.shape[1], size=n)]
        u = rng.random(n)[:, None]  # (n, 1), U(0, 1)
        return fitted.z[i] + u * (fitted.z[j] - fitted.z[i])  # SMOTE's z_i + u (z_j - z_i)
