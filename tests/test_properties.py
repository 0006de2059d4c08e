"""Property-based tests (hypothesis) for binning, shot regions, metrics, priority allocation and
the quality gate: statements that must hold for every input, not just the hand-made ones."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from latentdiff.augment import QualityGate, allocate, priority
from latentdiff.binning import DIR_THRESHOLDS, Bins, ShotRegions, regions_from_counts
from latentdiff.metrics import regression_metrics

FAST = settings(max_examples=60, deadline=None)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
labels = arrays(np.float64, st.integers(2, 200), elements=finite)


@FAST
@given(labels, st.integers(1, 60))
def test_bins_cover_the_range_and_keep_label_order(y, k):
    assume(np.ptp(y) > 1e-6 * max(1.0, np.abs(y).max()))
    bins = Bins.fit(y, n_bins=k)
    b = bins.assign(y)
    assert b.min() >= 0 and b.max() <= k - 1
    assert bins.counts(y).sum() == y.size
    order = np.argsort(y, kind="stable")
    assert np.all(np.diff(b[order]) >= 0)  # a larger label never goes to a lower bin
    assert b[np.argmin(y)] == 0 and b[np.argmax(y)] == k - 1


@FAST
@given(arrays(np.int64, st.integers(1, 50), elements=st.integers(0, 500)))
def test_shot_regions_follow_the_thresholds(counts):
    r = regions_from_counts(counts, DIR_THRESHOLDS)
    assert np.all((r == "many") == (counts > 100))
    assert np.all((r == "few") == (counts < 20))
    assert np.all((r == "medium") == ((counts >= 20) & (counts <= 100)))


@FAST
@given(labels)
def test_regions_of_training_labels_match_their_bin_counts(y):
    assume(np.ptp(y) > 1e-6 * max(1.0, np.abs(y).max()))
    bins = Bins.fit(y, n_bins=10)
    regions = ShotRegions.from_training_labels(y, bins)
    counts = bins.counts(y)
    expect = regions_from_counts(counts)[bins.assign(y)]
    assert np.array_equal(regions.of(y), expect)


@FAST
@given(st.integers(2, 100).flatmap(lambda n: st.tuples(
    arrays(np.float64, n, elements=st.floats(-1e3, 1e3)),
    arrays(np.float64, n, elements=st.floats(-1e3, 1e3)))))  # fmt: skip
def test_metric_inequalities(pair):
    y, p = pair
    m = regression_metrics(y, p)
    assert m["mse"] >= 0 and m["mae"] >= 0
    assert m["mae"] <= np.sqrt(m["mse"]) * (1 + 1e-9) + 1e-12  # mean <= quadratic mean
    # geometric <= arithmetic mean, up to the guard that floors each error at 1e-8
    assert m["gm"] <= m["mae"] * (1 + 1e-9) + 1.01e-8
    exact = regression_metrics(y, y)
    assert exact["mse"] == 0 and exact["mae"] == 0
    if m["r2"] is not None:
        assert m["r2"] <= 1 + 1e-12


@FAST
@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 1)), st.integers(0, 10_000))
def test_allocation_sums_and_stays_within_one_of_proportional(w, n_total):
    assume(w.sum() > 1e-9)
    p = w / w.sum()
    out = allocate(p, n_total)
    assert out.sum() == n_total and np.all(out >= 0)
    assert np.all(np.abs(out - p * n_total) < 1 + 1e-9)


@FAST
@given(
    arrays(np.float64, 12, elements=st.floats(0, 50)),
    arrays(np.int64, 12, elements=st.integers(0, 300)),
    st.floats(0, 1),
)
def test_priority_is_a_distribution_with_zero_on_empty_bins(errors, counts, lam):
    assume(counts.max() > 0)
    p = priority(errors, counts, lam)
    assert np.all(p >= 0) and np.isclose(p.sum(), 1.0)
    assert np.all(p[counts == 0] == 0)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), arrays(np.float64, 3, elements=st.floats(-100, 100)))
def test_gate_decisions_do_not_change_when_every_feature_is_shifted(seed, shift):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(90, 3))
    b = np.repeat(np.arange(3), 30)
    Zs = rng.normal(size=(40, 3)) * 1.5
    bs = rng.integers(0, 3, 40)
    a = QualityGate(calibration="in-sample").fit(Z, b, 3).accept(Zs, bs)
    c = QualityGate(calibration="in-sample").fit(Z + shift, b, 3).accept(Zs + shift, bs)
    # a Mahalanobis distance does not see a translation; allow flips of points on the threshold
    assert np.mean(a != c) <= 0.05
