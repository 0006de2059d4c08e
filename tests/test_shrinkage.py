"""The gate's Ledoit-Wolf statistics (issue 11) against scikit-learn's LedoitWolf: the same
shrinkage and the same Mahalanobis distances, through the Woodbury form with fewer rows than
dimensions and through the precision matrix otherwise, degenerate bins included."""

import numpy as np
import pytest
from sklearn.covariance import LedoitWolf, ledoit_wolf_shrinkage

from latentdiff.shrinkage import ShrunkGaussian, ledoit_wolf_from_gram


def _rows(n, m, seed=0, rank=None):
    rng = np.random.default_rng(seed)
    if rank is None:
        return rng.normal(size=(n, m)) * rng.uniform(0.2, 3.0, m) + rng.normal(size=m)
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, m))  # low-rank features


@pytest.mark.parametrize("n, m", [(30, 200), (199, 200), (200, 200), (500, 40), (3, 8)])
def test_shrinkage_and_distances_equal_scikit_learn(n, m):
    Z = _rows(n, m)
    lw = LedoitWolf().fit(Z)
    g = ShrunkGaussian.fit(Z)
    assert g.shrinkage == pytest.approx(lw.shrinkage_, rel=1e-9)
    assert (g.precision is None) == (n < m)  # Woodbury exactly when there are fewer rows
    probe = _rows(50, m, seed=1)
    assert np.allclose(g.sq_distances(probe), lw.mahalanobis(probe), rtol=1e-7)
    assert np.allclose(g.sq_distances(Z), lw.mahalanobis(Z), rtol=1e-7, atol=1e-9)


def test_gram_formula_equals_scikit_learn_shrinkage():
    X = _rows(40, 300, seed=2)
    X = X - X.mean(axis=0)
    s, mu = ledoit_wolf_from_gram(X @ X.T, X.shape[1])
    assert s == pytest.approx(ledoit_wolf_shrinkage(X, assume_centered=True), rel=1e-10)
    assert mu == pytest.approx(np.trace(X.T @ X / 40) / 300, rel=1e-12)


def test_degenerate_bins_match_scikit_learn():
    """Dead (constant) dimensions, as ReLU features have, and low-rank rows."""
    Z = _rows(60, 30)
    Z[:, :5] = 0.0
    probe = _rows(20, 30, seed=3)
    probe[:, :5] = 0.0
    lw = LedoitWolf().fit(Z)
    assert np.allclose(ShrunkGaussian.fit(Z).sq_distances(probe), lw.mahalanobis(probe), rtol=1e-7)
    L = _rows(20, 100, rank=3)
    lw = LedoitWolf().fit(L)
    probe = _rows(10, 100, seed=4, rank=3)
    assert np.allclose(ShrunkGaussian.fit(L).sq_distances(probe), lw.mahalanobis(probe), rtol=1e-6)


def test_one_dimension_and_identical_rows():
    Z = _rows(10, 1)
    lw = LedoitWolf().fit(Z)
    assert np.allclose(ShrunkGaussian.fit(Z).sq_distances(Z), lw.mahalanobis(Z))
    same = np.ones((5, 4))
    d = ShrunkGaussian.fit(same).sq_distances(np.ones((2, 4)))
    assert np.all(np.isfinite(d)) and np.allclose(d, 0.0)
