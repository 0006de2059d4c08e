"""A bin's features as a Ledoit-Wolf shrunk Gaussian, and Mahalanobis distances to it (the
statistics of the quality gate, eq. 11 of seed 000).

The estimate is scikit-learn's ``LedoitWolf``: Sigma = (1 - s) S + s mu I, S the empirical
covariance, mu = trace(S) / m, s the Ledoit-Wolf shrinkage. What differs is how it is computed.
``LedoitWolf().fit`` forms the m x m covariance and inverts it by an eigendecomposition; with
1,024-d features the gate's 120 fits (20 bins, 5 calibration folds each) took 257 s on one
core, more than the diffusion model. A bin usually has fewer rows n than dimensions m, and then
everything is a function of the n x n Gram matrix G = X X^T of the centred rows X:

* the shrinkage (scikit-learn's ``ledoit_wolf_shrinkage`` written with G: ||S||_F = ||G||_F / n
  and sum_k ||x_k||^4 = sum_k G_kk^2);
* the distance, by the Woodbury identity: with a = s mu and R = sqrt((1 - s) / n) X,
  Sigma^-1 = (I - R^T (a I + R R^T)^-1 R) / a, so
  d^2(z) = (||v||^2 - w^T (a I + R R^T)^-1 w) / a, v = z - mean, w = R v.

That costs O(n^2 m) per fit and O(n m) per distance instead of O(m^3) and O(m^2). With n >= m,
Sigma is inverted through its Cholesky factor. Both are tested against scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

#: below this identity part (a = s mu) the Woodbury form is ill-conditioned: invert in m-space
_TINY = 1e-12
#: a Cholesky pivot this small next to the largest variance: treat Sigma as singular
_RCOND = 1e-10


def ledoit_wolf_from_gram(G: np.ndarray, m: int) -> tuple[float, float]:
    """(shrinkage s, mu) of n centred rows in m dimensions from their Gram matrix G (n, n):
    the quantities of scikit-learn's ``ledoit_wolf_shrinkage`` (Ledoit & Wolf 2004)."""
    n = G.shape[0]
    trace = float(np.trace(G)) / n  # trace(S)
    mu = trace / m
    if m == 1:  # as scikit-learn: nothing to shrink towards
        return 0.0, mu
    delta_ = float(np.sum(G * G)) / n**2  # ||S||_F^2
    beta_ = float(np.sum(np.diag(G) ** 2))  # sum_k ||x_k||^4
    beta = (beta_ / n - delta_) / (m * n)
    delta = (delta_ - 2.0 * mu * trace + m * mu**2) / m  # ||S - mu I||_F^2 / m
    beta = min(beta, delta)
    return (0.0 if beta == 0 else beta / delta), mu


@dataclass
class ShrunkGaussian:
    """mean and the Ledoit-Wolf covariance of a set of rows, held as its precision (m, m) or,
    with fewer rows than dimensions, as the rows ``R`` and the inverse ``inner`` of a I + R R^T
    (Woodbury; see the module)."""

    mean: np.ndarray  # (m,)
    shrinkage: float
    precision: np.ndarray | None = None  # (m, m)
    a: float = 0.0  # s mu, the identity part of Sigma
    rows: np.ndarray | None = None  # R, (n, m)
    inner: np.ndarray | None = None  # (a I + R R^T)^-1, (n, n)

    @classmethod
    def fit(cls, Z) -> ShrunkGaussian:
        Z = np.asarray(Z, dtype=np.float64)
        n, m = Z.shape
        mean = Z.mean(axis=0)
        X = Z - mean
        if n < m:
            s, mu = ledoit_wolf_from_gram(X @ X.T, m)
            a = s * mu
            if a > _TINY:
                R = np.sqrt((1.0 - s) / n) * X
                K = R @ R.T
                K.flat[:: n + 1] += a
                return cls(mean, s, a=a, rows=R, inner=linalg.inv(K, check_finite=False))
        else:
            s, mu = _shrinkage_primal(X)
        S = X.T @ X / n
        cov = (1.0 - s) * S
        cov.flat[:: m + 1] += s * mu
        return cls(mean, s, precision=_inverse(cov))

    def sq_distances(self, Z) -> np.ndarray:
        """(z - mean)^T Sigma^-1 (z - mean) of each row of Z, floored at 0."""
        V = np.asarray(Z, dtype=np.float64) - self.mean  # (N, m)
        if self.precision is not None:
            d2 = ((V @ self.precision) * V).sum(axis=1)
        else:
            W = V @ self.rows.T  # (N, n)
            d2 = ((V * V).sum(axis=1) - ((W @ self.inner) * W).sum(axis=1)) / self.a
        return np.maximum(d2, 0.0)


def _shrinkage_primal(X: np.ndarray) -> tuple[float, float]:
    """(s, mu) with m-space products when there are many more rows than dimensions."""
    from sklearn.covariance import ledoit_wolf_shrinkage

    n, m = X.shape
    mu = float(np.sum(X * X)) / (n * m)
    return float(ledoit_wolf_shrinkage(X, assume_centered=True)), mu


def _inverse(cov: np.ndarray) -> np.ndarray:
    """Sigma^-1 through its Cholesky factor; a singular Sigma (no shrinkage and fewer rows than
    dimensions, or constant features) gets the pseudo-inverse, as scikit-learn's precision."""
    try:
        c = linalg.cho_factor(cov, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return linalg.pinvh(cov, check_finite=False)
    if np.min(np.diag(c[0])) ** 2 < _RCOND * np.max(np.diag(cov)):  # numerically singular
        return linalg.pinvh(cov, check_finite=False)
    return linalg.cho_solve(c, np.eye(cov.shape[0]), check_finite=False)
