"""A second control generator for LDMLR's stage 2: "generated" features that are the class's own
encoded features drawn again with replacement (``LDMLRSettings(generator="resample")``).

Eq. 13's second term on such features is random oversampling of the targeted classes at weight
gamma: no new feature at all. What LDMLR gains over it is what generation adds beyond
re-weighting the targeted classes.
"""

from __future__ import annotations

import numpy as np


class ClassResample:
    """``fit(Z, y)`` keeps the rows of each class; ``sample(y)`` draws, for each requested class
    index, one of that class's rows uniformly with replacement (seeded)."""

    name = "class-resample"

    def fit(self, Z, y) -> ClassResample:
        Z, y = np.asarray(Z, dtype=np.float32), np.asarray(y)
        if Z.ndim != 2 or len(Z) != len(y):
            raise ValueError(f"Z must be (N, m) with one class per row, got {Z.shape}, {y.shape}")
        self._rows = {int(k): np.flatnonzero(y == k) for k in np.unique(y)}
        self._Z = Z
        return self

    def sample(self, y, random_state: int | None = None) -> np.ndarray:
        y = np.asarray(y)
        unknown = np.setdiff1d(y, list(self._rows))
        if unknown.size:
            raise ValueError(f"no training rows for class(es) {unknown.tolist()}")
        rng = np.random.default_rng(random_state)
        out = np.empty((len(y), self._Z.shape[1]), np.float32)
        for k in np.unique(y):
            idx = np.flatnonzero(y == k)
            out[idx] = self._Z[rng.choice(self._rows[int(k)], size=idx.size)]
        return out
