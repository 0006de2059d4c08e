"""Cosine similarity between feature vectors (seed 000, appendix C.1, Table 8 and Figures
13-16, 25): the mean and standard deviation over pairs of real-real, synthetic-synthetic and
real-synthetic features.

Pairs within one set are the distinct pairs ``i < j`` (a vector with itself is left out: its
similarity is 1 by definition); pairs across the sets are all ``(real, synthetic)`` pairs. A
zero vector (a feature whose ReLU units are all off) has no direction: scikit-learn's
``cosine_similarity`` gives it similarity 0 with everything, and so do we.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import cosine_similarity


def pair_similarities(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """The cosine similarities of the distinct pairs of rows of ``a`` (``b`` None), or of every
    (row of ``a``, row of ``b``) pair, flattened."""
    a = np.asarray(a, dtype=np.float64)
    if b is None:
        s = cosine_similarity(a)
        return s[np.triu_indices(a.shape[0], k=1)]
    return cosine_similarity(a, np.asarray(b, dtype=np.float64)).ravel()


def _stats(v: np.ndarray) -> dict:
    if v.size == 0:
        return {"mean": None, "std": None, "pairs": 0}
    return {"mean": float(v.mean()), "std": float(v.std()), "pairs": int(v.size)}


def cosine_table(real: np.ndarray, syn: np.ndarray) -> dict:
    """Table 8: ``{"real_real", "syn_syn", "real_syn"}``, each ``{"mean", "std", "pairs"}``
    (population standard deviation over pairs)."""
    return {
        "real_real": _stats(pair_similarities(real)),
        "syn_syn": _stats(pair_similarities(syn)),
        "real_syn": _stats(pair_similarities(real, syn)),
    }
