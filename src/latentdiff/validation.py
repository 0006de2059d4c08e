"""The project's one set of input checks: labels, feature matrices with their labels, pairs of
true and predicted labels, and batches of tensors. scikit-learn's conventions (sparse input is a
TypeError, text labels an "Unknown label type"), this project's messages: each names the input,
what is wrong and how much of it."""

from __future__ import annotations

import numpy as np


def _non_finite(a: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf; the first at flat "
            f"position {i})"
        )


def check_labels(y, name: str = "y", allow_empty: bool = False) -> np.ndarray:
    """``y`` as a 1-D finite float64 array; a single column (n, 1) and a scalar are accepted."""
    y = np.asarray(y)
    if y.dtype == object or not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Unknown label type: {name} must hold real numbers (a continuous target), "
                f"got dtype {y.dtype}"
            ) from None
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 0 or (y.ndim == 2 and y.shape[1] == 1):
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {y.shape}")
    if y.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: at least one label is needed")
    _non_finite(y, name)
    return y


def check_features_labels(Z, y, names: tuple[str, str] = ("X", "y")):
    """``(Z, y)`` as numeric arrays, or an error that names the problem: sparse input
    (TypeError), text in features or labels, a shape that is not (n, m) and (n,), fewer than two
    samples, NaN or inf. Object arrays of numbers are converted; the dtypes are otherwise kept
    (labels come back as float64 when they were not a floating type)."""
    import scipy.sparse

    zname, yname = names
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
            raise TypeError(f"{zname} must be numbers: {e}") from None
        except ValueError:
            raise ValueError(f"{zname} must be numeric, got dtype object with text") from None
    if Z.ndim != 2:
        raise ValueError(f"{zname} must be 2-D (n_samples, n_features), got shape {Z.shape}")
    if not np.issubdtype(Z.dtype, np.number):
        raise ValueError(f"{zname} must be numeric, got dtype {Z.dtype}")
    if np.iscomplexobj(Z) or np.iscomplexobj(y):
        raise ValueError("Complex data not supported: features and labels must be real numbers")
    if Z.shape[0] < 2:
        raise ValueError(f"need at least 2 samples to fit, got n_samples = {Z.shape[0]}")
    if Z.shape[1] < 1:  # scikit-learn's wording
        raise ValueError(f"0 feature(s) (shape={Z.shape}) while a minimum of 1 is required.")
    _non_finite(Z, zname)
    y_in = np.asarray(y)
    if y_in.ndim != 1 or y_in.size != Z.shape[0]:
        raise ValueError(
            f"{yname} must be 1-D with one label per row of {zname} ({Z.shape[0]}), got shape "
            f"{y_in.shape}"
        )
    y = check_labels(y_in, yname)
    return Z, (y_in if np.issubdtype(y_in.dtype, np.floating) else y)  # float32 stays float32


def check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted labels as two finite float64 vectors of one length."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values but y_pred has {y_pred.size}")
    _non_finite(y_true, "y_true")
    _non_finite(y_pred, "y_pred")
    return y_true, y_pred


def check_batch(pred, target):
    """A batch of predictions and targets as two (B,) tensors of one dtype ((B, 1) accepted)."""

    def one_d(x, name):
        if x.dim() == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.dim() != 1:
            raise ValueError(f"{name} must have shape (B,) or (B, 1), got {tuple(x.shape)}")
        return x

    pred, target = one_d(pred, "pred"), one_d(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    if pred.numel() == 0:
        raise ValueError("empty batch")
    return pred, target.to(pred.dtype)
