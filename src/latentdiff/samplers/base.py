"""What every sampler of the project shares: imbalanced-learn's template method for a continuous
target.

The public :meth:`~BaseRegressionSampler.fit_resample` checks the input once
(:func:`latentdiff.validation.check_features_labels`) and the sampler's own settings, then calls
the private ``_fit_resample`` that holds only the algorithm; it returns the kept originals first,
unchanged and in their order, then the new rows, with ``sample_indices_`` naming the originals
kept. imbalanced-learn's own base class rejects a continuous ``y``, so this one stands alone with
the same shape: it drops into an ``imblearn.pipeline.Pipeline`` before any regressor, and every
sampler passes scikit-learn's estimator checks (``tests/test_estimator_checks.py``).

Output dtypes: floating features keep their dtype, integer features come back as float64 (new
rows are not integers); labels come back as a floating type the same way.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from sklearn.base import BaseEstimator

from ..validation import check_features_labels


def _float_dtype(a: np.ndarray):
    return a.dtype if np.issubdtype(a.dtype, np.floating) else np.dtype(np.float64)


class BaseRegressionSampler(BaseEstimator):
    """Base of :class:`~latentdiff.samplers.LatentDiffSampler`, :class:`SMOTER` and
    :class:`SMOGN`. Subclasses implement :meth:`_check_params` (their settings, checked before
    any work) and :meth:`_fit_resample`; those that have something to fit without resampling
    also implement :meth:`_fit`."""

    def fit(self, X, y, **fit_params):
        """Check the input and the settings and fit what the sampler learns from ``(X, y)``."""
        X, y = self._validate(X, y)
        return self._fit(X, y, **fit_params)

    def fit_resample(self, X, y, **fit_params) -> tuple[np.ndarray, np.ndarray]:
        """Fit and resample: the kept originals first (unchanged), then the new rows."""
        X, y = self._validate(X, y)
        X_new, y_new, kept = self._fit_resample(X, y, **fit_params)
        self.sample_indices_ = np.asarray(kept, dtype=np.int64)
        return (
            np.asarray(X_new).astype(_float_dtype(X), copy=False),
            np.asarray(y_new).astype(_float_dtype(y), copy=False),
        )

    def _validate(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        X, y = check_features_labels(X, y)
        self._check_params(X, y)
        self.n_features_in_ = X.shape[1]
        return X, y

    def _check_params(self, X: np.ndarray, y: np.ndarray) -> None:
        """Refuse a setting that is out of range or cannot work on this input."""

    def _fit(self, X: np.ndarray, y: np.ndarray, **fit_params):
        return self

    @abstractmethod
    def _fit_resample(self, X: np.ndarray, y: np.ndarray, **fit_params):
        """``(X_new, y_new, indices of the originals kept)`` from checked input."""
