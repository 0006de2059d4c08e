"""The input check every sampler shares: scikit-learn's conventions (sparse input is a
TypeError, text labels an "Unknown label type"), this project's messages."""

from __future__ import annotations

import numpy as np
import scipy.sparse


def check_features_labels(Z, y) -> tuple[np.ndarray, np.ndarray]:
    """``(Z, y)`` as numeric arrays, or an error that names the problem: sparse input
    (TypeError), text in features or labels, a shape that is not (n, m) and (n,), fewer than two
    samples, NaN or inf. Object arrays of numbers are converted; the dtypes are otherwise kept."""
    if scipy.sparse.issparse(Z):
        raise TypeError(
            "sparse input is not supported: the samplers interpolate, generate and gate dense "
            "feature vectors (use X.toarray())"
        )
    Z = np.asarray(Z)
    if Z.dtype == object:  # e.g. a DataFrame's .values with numbers stored as objects
        try:
            Z = Z.astype(np.float64)
        except TypeError as e:  # e.g. a dict in a cell: numpy's message names the type
            raise TypeError(f"features must be numbers: {e}") from None
        except ValueError:
            raise ValueError("features must be numeric, got dtype object with text") from None
    if Z.ndim != 2:
        raise ValueError(f"features must be 2-D (n_samples, n_features), got shape {Z.shape}")
    if not np.issubdtype(Z.dtype, np.number):
        raise ValueError(f"features must be numeric, got dtype {Z.dtype}")
    if np.iscomplexobj(Z) or np.iscomplexobj(y):
        raise ValueError("Complex data not supported: features and labels must be real numbers")
    if Z.shape[0] < 2:
        raise ValueError(f"need at least 2 samples to fit, got n_samples = {Z.shape[0]}")
    if Z.shape[1] < 1:  # scikit-learn's wording
        raise ValueError(f"0 feature(s) (shape={Z.shape}) while a minimum of 1 is required.")
    if not np.all(np.isfinite(Z)):
        raise ValueError(f"features contain {int((~np.isfinite(Z)).sum())} NaN or inf value(s)")
    y = np.asarray(y)
    if y.ndim != 1 or y.size != Z.shape[0]:
        raise ValueError(
            f"y must be 1-D with one label per row of features ({Z.shape[0]}), got shape {y.shape}"
        )
    if y.dtype == object:
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "Unknown label type: y must hold numbers (a continuous target), got text or "
                "other objects"
            ) from None
    if not np.issubdtype(y.dtype, np.number):
        raise ValueError(f"Unknown label type: y must be numeric, got dtype {y.dtype}")
    if not np.all(np.isfinite(y)):
        raise ValueError(
            f"y contains {int((~np.isfinite(y.astype(float))).sum())} NaN or inf value(s)"
        )
    return Z, y
