import numpy as np
import pytest

from latentdiff.augment import QualityGate, allocate, bin_mean_abs_error, priority
from latentdiff.binning import Bins
from latentdiff.shrinkage import ShrunkGaussian


def test_eq8_bin_errors_by_hand():
    b = Bins.from_range(0, 2, n_bins=2)
    e = bin_mean_abs_error([0.1, 0.2, 1.5], [0.3, 0.2, 1.0], b)
    np.testing.assert_allclose(e, [0.1, 0.5])
    assert np.isnan(bin_mean_abs_error([0.1], [0.1], Bins.from_range(0, 2, n_bins=2))[1])


def test_eq9_eq10_priority_by_hand():
    errors = np.array([1.0, 2.0, 4.0])
    counts = np.array([100, 50, 10])
    lam = 0.7
    # literal eq. 9 (error_scale="none")
    raw = lam * errors + (1 - lam) * (1 - counts / 100)
    np.testing.assert_allclose(priority(errors, counts, lam, "none"), raw / raw.sum())
    # default: errors scaled by their max so both terms lie in [0, 1]
    raw = lam * errors / 4 + (1 - lam) * (1 - counts / 100)
    np.testing.assert_allclose(priority(errors, counts, lam), raw / raw.sum())


def test_priority_extremes_and_empty_bins():
    counts = np.array([100, 0, 10])
    errors = np.array([1.0, np.nan, 1.0])
    p = priority(errors, counts, weight=0.0)  # scarcity only
    assert p[1] == 0  # empty bin: nothing to generate from
    np.testing.assert_allclose(p, [0, 0, 1])
    p = priority([1.0, 3.0], [5, 5], weight=1.0)  # error only
    np.testing.assert_allclose(p, [0.25, 0.75])
    with pytest.raises(ValueError, match="lambda"):
        priority([1.0], [1], weight=1.5)


def test_allocate_sums_and_is_proportional():
    a = allocate(np.array([0.5, 0.3, 0.2]), 10)
    np.testing.assert_array_equal(a, [5, 3, 2])
    a = allocate(np.array([1 / 3, 1 / 3, 1 / 3]), 100)
    assert a.sum() == 100 and a.max() - a.min() <= 1
    with pytest.raises(ValueError):
        allocate(np.array([0.5, 0.6]), 3)


def test_gate_eq11_distance_matches_hand_computation():
    mean = np.array([1.0, 0.0])
    prec = np.array([[2.0, 0.0], [0.0, 0.5]])
    stats = ShrunkGaussian(mean, shrinkage=0.0, precision=prec)
    d = QualityGate.distance(np.array([[2.0, 2.0]]), stats)
    assert d[0] == pytest.approx(np.sqrt(1 * 2 * 1 + 2 * 0.5 * 2))
    # the Woodbury form of the same Sigma = a I + R^T R (a = 2, R = [[0, sqrt(2)]]):
    # Sigma = diag(2, 4), precision diag(1/2, 1/4)
    R = np.array([[0.0, np.sqrt(2.0)]])
    inner = np.linalg.inv(2.0 * np.eye(1) + R @ R.T)
    woodbury = ShrunkGaussian(mean, 0.0, a=2.0, rows=R, inner=inner)
    d = QualityGate.distance(np.array([[2.0, 2.0]]), woodbury)
    assert d[0] == pytest.approx(np.sqrt(1 * 0.5 * 1 + 2 * 0.25 * 2))


def test_gate_accepts_in_distribution_and_rejects_outliers_in_high_dim():
    rng = np.random.default_rng(0)
    m = 64  # more dimensions than samples per bin: sample covariance would be singular
    Z = np.r_[rng.normal(0, 1, (40, m)), rng.normal(5, 1, (40, m))]
    b = np.r_[np.zeros(40, int), np.ones(40, int)]
    gate = QualityGate(quantile=0.95).fit(Z, b, n_bins=2)
    assert all(g.n_real == 40 for g in gate.gates_.values())
    fresh = rng.normal(0, 1, (200, m))
    far = rng.normal(5, 1, (50, m))  # bin-1 features presented as bin 0
    assert gate.accept(fresh, np.zeros(200, int)).mean() > 0.5
    assert gate.accept(far, np.zeros(50, int)).mean() == 0.0


def test_gate_small_bin_rules():
    rng = np.random.default_rng(1)
    Z = np.r_[rng.normal(0, 1, (30, 3)), rng.normal(0, 1, (2, 3))]
    b = np.r_[np.zeros(30, int), np.ones(2, int)]  # bin 1 has 2 < n_min real samples
    pooled = QualityGate(n_min=5, small_bin_rule="pool").fit(Z, b, n_bins=3)
    assert pooled.gates_[1].bins_used == (0, 2) and pooled.gates_[1].n_real == 32
    probe = rng.normal(0, 1, (20, 3))
    assert pooled.accept(probe, np.ones(20, int)).any()
    acc = QualityGate(n_min=5, small_bin_rule="accept").fit(Z, b, n_bins=3)
    assert acc.accept(probe, np.ones(20, int)).all()
    rej = QualityGate(n_min=5, small_bin_rule="reject").fit(Z, b, n_bins=3)
    assert not rej.accept(probe, np.ones(20, int)).any()
    with pytest.raises(ValueError, match="small_bin_rule"):
        QualityGate(small_bin_rule="maybe")


def test_gate_held_out_calibration_accepts_fresh_real_samples_at_about_q():
    rng = np.random.default_rng(2)
    m, n = 32, 40  # few samples for the dimension: in-sample distances are biased low
    Z = rng.normal(0, 1, (n, m))
    b = np.zeros(n, int)
    fresh = rng.normal(0, 1, (2000, m))
    cross = QualityGate(quantile=0.95).fit(Z, b, n_bins=1).accept(fresh, np.zeros(2000, int))
    naive = QualityGate(quantile=0.95, calibration="in-sample").fit(Z, b, n_bins=1)
    naive_rate = naive.accept(fresh, np.zeros(2000, int)).mean()
    assert 0.9 < cross.mean() < 0.99  # about q = 0.95
    assert naive_rate < 0.88  # the literal reading rejects more samples of the same distribution
