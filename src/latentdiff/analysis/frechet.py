"""Frechet distance between Gaussians fitted to two sets of feature vectors (Heusel et al.,
2017, the FID formula on features): ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``.
Covariances are the unbiased sample covariances (``np.cov``); the matrix square root is
``scipy.linalg.sqrtm``, its real part (an imaginary part is rounding). Moved here from
``scripts/issue12_pogdiff_frechet.py`` (issue 12), unchanged, which now imports it."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to the rows of ``a`` and ``b`` (each >= 2)."""
    a, b = np.asarray(a), np.asarray(b)  # as given: float32 rows keep float32 means
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Frechet distance needs at least two rows on each side")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False))
    s_b = np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():  # singular covariances (dead ReLU units) are common here
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(s_a @ s_b)
    root = root.real if np.iscomplexobj(root) else root
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * root))
