"""Nearest real neighbour of each synthetic feature (seed 000, appendix C.2, Table 9 and
Figures 26-28): its cosine distance and the label gap |y_syn - y_neighbour|.

The neighbour is searched among all the real features of the sample, whatever their bin (as in
the paper: the label gap says whether the nearest real feature carries a similar label). As a
scale, the same distance is measured from each real feature to its nearest *other* real feature
(``real_to_real``): a synthetic feature as close to the real ones as they are to each other
scores about the same. Both are measured on the stored sample, so the distances are larger than
they would be against every training feature.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors


def nearest_real(real_z, real_y, syn_z, syn_y) -> tuple[np.ndarray, np.ndarray]:
    """Per synthetic row: the cosine distance to its nearest real row and the absolute label
    gap to that row."""
    if len(syn_z) == 0 or len(real_z) == 0:
        return np.empty(0), np.empty(0)
    nn = NearestNeighbors(n_neighbors=1, metric="cosine", algorithm="brute")
    dist, idx = nn.fit(np.asarray(real_z, np.float64)).kneighbors(np.asarray(syn_z, np.float64))
    gap = np.abs(np.asarray(syn_y, np.float64) - np.asarray(real_y, np.float64)[idx[:, 0]])
    return dist[:, 0], gap


def nearest_other_real(real_z) -> np.ndarray:
    """Per real row: the cosine distance to its nearest other real row (leave one out)."""
    if len(real_z) < 2:
        return np.full(len(real_z), np.nan)
    nn = NearestNeighbors(n_neighbors=2, metric="cosine", algorithm="brute")
    Z = np.asarray(real_z, np.float64)
    dist, idx = nn.fit(Z).kneighbors(Z)
    # the row itself is normally first; with exact duplicates it may be second: take the other
    own = idx[:, 0] == np.arange(len(Z))
    return np.where(own, dist[:, 1], dist[:, 0])


def summary(v: np.ndarray) -> dict:
    """``{"mean", "std", "median", "n"}`` of the finite values of ``v``."""
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "std": None, "median": None, "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std()), "median": float(np.median(v)),
            "n": int(v.size)}  # fmt: skip
