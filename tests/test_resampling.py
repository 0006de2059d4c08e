"""SMOTER / SMOGN resampling (latentdiff.resampling): relevance, bump split, interpolation,
SMOGN noise, determinism and errors, plus numbers from the ``smogn`` package run out of tree."""

from __future__ import annotations

import numpy as np
import pytest

from latentdiff.samplers import SMOGN, SMOTER, smogn, smoter
from latentdiff.samplers.relevance import (
    RelevanceWarning,
    box_plot_stats,
    median_control_points,
    relevance,
    relevance_control_points,
)

# A small fixed label set with a low and a high tail (20 values, not sorted).
Y20 = np.array(
    [
        0.2,
        0.5,
        0.9,
        1.0,
        1.1,
        1.2,
        1.3,
        1.5,
        1.6,
        1.8,
        2.0,
        2.1,
        2.3,
        2.6,
        3.0,
        3.4,
        4.5,
        6.0,
        8.0,
        -2.5,
    ]
)

# smogn 0.1.2 (numpy 2.3.5, pandas 2.3.3; run out of tree in its own venv):
#   phi(y_sort, phi_ctrl_pts(y_sort)) with y_sort = pd.Series(np.sort(Y20)), defaults
#   (method "auto", xtrm_type "both", coef 1.5). Control points [0.2, 1, 0, 1.7, 0, 0, 4.5, 1, 0].
SMOGN_PHI_SORTED = np.array(
    [
        1.0,
        1.0,
        0.896,
        0.5499259259259262,
        0.4500740740740742,
        0.352,
        0.2592592592592594,
        0.17540740740740746,
        0.04859259259259274,
        0.01274074074074072,
        0.003735422740524772,
        0.031978862973760895,
        0.055393586005830886,
        0.11807580174927103,
        0.24353134110787172,
        0.44651967930029146,
        0.6582543731778425,
        1.0,
        1.0,
        1.0,
    ]
)


def _xy20():
    rng = np.random.default_rng(0)
    X = np.column_stack([Y20 + rng.normal(scale=0.3, size=Y20.size), rng.normal(size=Y20.size)])
    return X, Y20


def _skewed(n=300, d=3, seed=0):
    """Log-normal labels (a long high tail) and features correlated with them."""
    rng = np.random.default_rng(seed)
    y = np.exp(rng.normal(size=n))
    X = np.column_stack([np.log(y) + 0.3 * rng.normal(size=n), rng.normal(size=(n, d - 1))])
    return X, y


# --- relevance ----------------------------------------------------------------------------------


def test_relevance_matches_smogn_package():
    np.testing.assert_allclose(relevance(np.sort(Y20)), SMOGN_PHI_SORTED, rtol=0, atol=1e-12)
    knots, phi = relevance_control_points(Y20)
    np.testing.assert_allclose(knots, [0.2, 1.7, 4.5])
    np.testing.assert_array_equal(phi, [1.0, 0.0, 1.0])


def test_relevance_one_sided_matches_smogn_package():
    # smogn 0.1.2, xtrm_type "high" / "low": the other side is flat at 0 (same run as above)
    ys = np.sort(Y20)
    high, low = relevance(ys, extremes="high"), relevance(ys, extremes="low")
    np.testing.assert_allclose(high[10:], SMOGN_PHI_SORTED[10:], atol=1e-12)
    np.testing.assert_array_equal(high[:10], 0.0)
    np.testing.assert_allclose(low[:10], SMOGN_PHI_SORTED[:10], atol=1e-12)
    np.testing.assert_array_equal(low[10:], 0.0)
    np.testing.assert_allclose(relevance_control_points(Y20, extremes="high")[0], [-2.5, 1.7, 4.5])


def test_relevance_hand_checks():
    # 0, 0.1, ..., 10 plus four outliers: n = 105, so the quartile positions are whole numbers
    y = np.concatenate([np.linspace(0.0, 10.0, 101), [-30.0, -20.0, 30.0, 40.0]])
    lo, q1, med, q3, hi = box_plot_stats(y)
    np.testing.assert_allclose([q1, med, q3], [2.4, 5.0, 7.6])
    assert (lo, hi) == (0.0, 10.0)  # whiskers end at the last observed value inside 1.5 IQR
    r = relevance(y)
    assert np.all((r >= 0) & (r <= 1))
    np.testing.assert_array_equal(relevance([-30.0, 0.0, 10.0, 30.0, 40.0], reference=y), 1.0)
    assert relevance([5.0], reference=y)[0] == 0.0  # the median knot
    # smoothstep 3t^2 - 2t^3 between the median (0) and a whisker (1): 1/2 halfway, ~0 near the
    # median (t = 0.02 -> 0.001184)
    np.testing.assert_allclose(relevance([2.5, 7.5, 4.9], reference=y), [0.5, 0.5, 0.001184])
    # monotone from the median outwards; flat beyond the end knots
    up = relevance(np.linspace(5, 12, 50), reference=y)
    assert np.all(np.diff(up) >= 0)


def test_relevance_without_extremes_is_zero():
    y = np.linspace(0, 1, 50)
    np.testing.assert_array_equal(relevance(y), 0.0)


# --- bumps and amounts --------------------------------------------------------------------------


def test_balance_counts_match_smogn_package():
    # Y20 at threshold 0.5: bumps of 4 rare, 12 frequent, 4 rare (sorted by label); "balance"
    # resizes each to round(20 / 3) = 7. smogn 0.1.2 (same run) made 3 synthetic rows per rare
    # bump; it keeps 12 - 7 = 5 frequent rows instead of 7 (its drop() bug), we keep 7.
    X, y = _xy20()
    res = SMOGN(k=3, random_state=0)
    X_new, y_new = res.fit_resample(X, y)
    rare = relevance(y) >= 0.5
    kept = res.sample_indices_
    assert rare.sum() == 8 and rare[kept].sum() == 8  # every rare sample kept
    assert (~rare[kept]).sum() == 7
    assert len(y_new) == 21 and X_new.shape == (21, 2)
    syn = y_new[kept.size :]
    assert (syn < 1.0).sum() == 3 and (syn > 3.0).sum() == 3


def test_extreme_counts_match_smogn_package():
    # smogn 0.1.2, samp_method "extreme" (same run): s_perc = (2.2, 0.2, 2.2) -> 4 synthetic
    # rows per rare bump (8 in all) and int(0.2 * 12) = 2 frequent rows drawn.
    X, y = _xy20()
    res = SMOTER(k=3, sampling="extreme", random_state=1)
    _, y_new = res.fit_resample(X, y)
    rare = relevance(y) >= 0.5
    assert (~rare[res.sample_indices_]).sum() == 2
    assert len(y_new) - res.sample_indices_.size == 8


def test_explicit_over_under():
    X, y = _skewed()
    rare = relevance(y) >= 0.5
    n_rare, n_freq = int(rare.sum()), int((~rare).sum())
    res = SMOTER(over=3.0, under=0.5, random_state=0)
    X_new, y_new = res.fit_resample(X, y)
    assert (~rare[res.sample_indices_]).sum() == n_freq // 2
    assert len(y_new) == n_freq // 2 + 3 * n_rare  # one rare bump only (a high tail)
    # over alone keeps every frequent sample
    _, y_o = smoter(X, y, over=2.0, random_state=0)
    assert len(y_o) == len(y) + n_rare


# --- interpolation (SMOTER) and noise (SMOGN) ---------------------------------------------------


def _segment_fit(X, y, Xs, ys, pool):
    """For each synthetic row: is it on a segment between two pool rows, label at the same r?"""
    Xp, yp = X[pool], y[pool]
    ok = np.zeros(len(ys), dtype=bool)
    d = Xp[None, :, :] - Xp[:, None, :]  # (seed, nbr, dim)
    for t in range(len(ys)):  # test helper only
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (Xs[t, 0] - Xp[:, None, 0]) / d[..., 0]
            on_x = np.all(np.abs(Xp[:, None, :] + r[..., None] * d - Xs[t]) < 1e-9, axis=-1)
            on_y = np.abs(yp[:, None] + r * (yp[None, :] - yp[:, None]) - ys[t]) < 1e-9
        ok[t] = np.any(on_x & on_y & (r >= 0) & (r <= 1))
    return ok


def test_smoter_synthetic_on_segment_and_labels_between():
    X, y = _skewed(n=120)
    rare = np.flatnonzero(relevance(y) >= 0.5)
    res = SMOTER(k=3, random_state=0)
    X_new, y_new = res.fit_resample(X, y)
    Xs, ys = X_new[res.sample_indices_.size :], y_new[res.sample_indices_.size :]
    assert len(ys) > 0
    assert np.all(_segment_fit(X, y, Xs, ys, rare))
    assert ys.min() >= y[rare].min() and ys.max() <= y[rare].max()


def test_smogn_far_neighbours_get_noise():
    # two tight, distant clusters in one rare bump: a neighbour in the other cluster is beyond
    # half the median neighbour distance, so SMOGN perturbs the seed instead of interpolating
    rng = np.random.default_rng(3)
    n_f, n_r = 200, 20
    y = np.concatenate([rng.normal(0, 1, n_f), rng.uniform(8, 9, n_r)])
    X = np.concatenate(
        [
            rng.normal(0, 1, (n_f, 2)),
            np.where(np.arange(n_r)[:, None] % 2, 10.0, -10.0) + 0.01 * rng.normal(size=(n_r, 2)),
        ]
    )
    rare = np.flatnonzero(relevance(y) >= 0.5)
    assert np.all(np.isin(np.arange(n_f, n_f + n_r), rare))
    res = SMOGN(k=15, pert=0.02, over=5.0, under=1.0, random_state=0)
    X_new, y_new = res.fit_resample(X, y)
    Xs, ys = X_new[res.sample_indices_.size :], y_new[res.sample_indices_.size :]
    on_seg = _segment_fit(X, y, Xs, ys, rare)
    assert 0 < (~on_seg).sum() < len(ys)
    # noise rows: within a few std * min(maxD, pert) of some seed, label included
    sd = X[rare].std(axis=0) * 0.02
    z = np.abs(Xs[~on_seg][:, None, :] - X[rare][None]) / sd
    zy = np.abs(ys[~on_seg][:, None] - y[rare][None]) / (y[rare].std() * 0.02)
    assert np.all(np.any(np.all(z < 6, axis=-1) & (zy < 6), axis=1))
    # SMOTER on the same data never leaves the segments
    res_t = SMOTER(k=15, over=5.0, random_state=0)
    X_t, y_t = res_t.fit_resample(X, y)
    assert np.all(
        _segment_fit(
            X, y, X_t[res_t.sample_indices_.size :], y_t[res_t.sample_indices_.size :], rare
        )
    )


def test_determinism_and_dtype():
    X, y = _skewed()
    a = smogn(X, y, random_state=7)
    b = smogn(X, y, random_state=7)
    c = smogn(X, y, random_state=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    assert a[0].dtype == np.float64 and a[1].dtype == np.float64
    X32 = X.astype(np.float32)
    assert smoter(X32, y, random_state=0)[0].dtype == np.float64


def test_class_matches_function_and_params():
    X, y = _skewed()
    res = SMOGN(pert=0.1, k=4, random_state=3)
    Xa, ya = res.fit_resample(X, y)
    Xb, yb = smogn(X, y, pert=0.1, k=4, random_state=3)
    np.testing.assert_array_equal(Xa, Xb)
    np.testing.assert_array_equal(ya, yb)
    assert res.get_params()["pert"] == 0.1
    assert res.set_params(k=2).k == 2
    with pytest.raises(ValueError, match="Invalid parameter .bogus."):  # scikit-learn's message
        res.set_params(bogus=1)


def test_precomputed_relevance():
    X, y = _skewed()
    rel = (y > np.quantile(y, 0.9)).astype(float)
    X_new, y_new = smoter(X, y, rel=rel, over=2.0, random_state=0)
    assert len(y_new) == len(y) + int(rel.sum())


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "match"),
    [
        (np.ones((5, 2)), np.arange(4.0), {}, "one label per row of X \\(5\\)"),
        (np.full((4, 2), np.nan), np.arange(4.0), {}, "X has 8 non-finite"),
        (np.ones((4, 2)), np.array([1.0, np.inf, 2.0, 3.0]), {}, "y has 1 non-finite"),
        (np.ones((4, 2)), np.ones(4), {}, "y is constant"),
        (np.ones((4, 2)), np.arange(4.0), {"rel_threshold": 0}, "rel_threshold"),
        (np.ones((4, 2)), np.arange(4.0), {"k": 0}, "k must be"),
        (np.ones((4, 2)), np.arange(4.0), {"over": 0.5}, "over"),
        (np.ones((4, 2)), np.arange(4.0), {"under": 1.5}, "under"),
        (np.ones((4, 2)), np.arange(4.0), {"sampling": "most"}, "sampling must be"),
    ],
)
def test_errors(X, y, kwargs, match):
    if match == "sampling must be":
        X, y = _skewed()
    with pytest.raises(ValueError, match=match):
        smoter(X, y, **kwargs)


def test_error_single_sample_rare_bump():
    y = np.linspace(0, 1, 41)
    X = np.arange(41.0)[:, None]
    rel = np.zeros(41)
    rel[-1] = 1.0  # a rare bump of one sample has no neighbour to interpolate with
    with pytest.raises(ValueError, match="has 1 sample"):
        smogn(X, y, rel=rel, random_state=0)


def test_bad_pert_and_extremes():
    X, y = _skewed()
    with pytest.raises(ValueError, match="pert"):
        smogn(X, y, pert=0.0)
    with pytest.raises(ValueError, match="extremes"):
        relevance(y, extremes="middle")


# --- degenerate relevance: the median rule and "nothing to balance" -----------------------------


def _with_features(y, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([y + 0.1 * rng.normal(size=y.size), rng.normal(size=y.size)]), y


def test_box_plot_marking_every_sample_rare_falls_back_to_the_median_rule():
    # two clusters at the whisker ends and outliers beyond both: the box plot calls all rare
    y = np.r_[np.zeros(60), np.ones(60), [-3.0, -3.2, -2.9, 4.0, 4.1, 4.3]]
    assert np.all(relevance(y) >= 0.5)  # what SMOTER / SMOGN refused before
    X, y = _with_features(y)
    s = SMOGN(random_state=0)
    with pytest.warns(RelevanceWarning, match="every sample rare.*median rule"):
        X_new, y_new = s.fit_resample(X, y)
    assert s.relevance_rule_ == "median" and s.outcome_ == "resampled"
    np.testing.assert_array_equal(s.relevance_, relevance(y, rule="median"))
    assert s.n_rare_ == 6  # the outliers; both clusters are frequent
    n_syn = len(y_new) - len(s.sample_indices_)
    assert n_syn > 0 and np.all(np.isfinite(y_new))
    syn = y_new[len(s.sample_indices_) :]
    assert np.all((syn < -2) | (syn > 3))  # new labels in the rare tails only


def test_labels_tied_at_the_median_fall_back_to_the_median_rule():
    # 80 % zeros: median, quartiles and whisker coincide; the ones are the rare value
    X, y = _with_features(np.r_[np.zeros(80), np.ones(20)])
    with pytest.raises(ValueError, match="not strictly increasing"):
        relevance(y)
    s = SMOTER(random_state=0)
    with pytest.warns(RelevanceWarning, match="undefined.*median rule"):
        X_new, y_new = s.fit_resample(X, y)
    assert s.relevance_rule_ == "median" and s.outcome_ == "resampled" and s.n_rare_ == 20
    np.testing.assert_array_equal(s.relevance_, y)  # 1 for the ones, 0 for the zeros
    assert len(y_new) == 100 and (y_new > 0.5).sum() == 50  # "balance": two bumps of 50


def test_median_control_points():
    knots, phi = median_control_points([0.0, 1, 2, 3, 10])
    np.testing.assert_array_equal(knots, [0, 2, 10])
    np.testing.assert_array_equal(phi, [1, 0, 1])
    np.testing.assert_array_equal(
        median_control_points([0.0, 1, 2, 3, 10], extremes="high")[1], [0, 0, 1]
    )
    knots, phi = median_control_points(np.r_[np.zeros(8), np.ones(2)])  # median = minimum
    np.testing.assert_array_equal(knots, [0, 1])
    np.testing.assert_array_equal(phi, [0, 1])


def test_no_rare_sample_gives_the_set_back_unchanged_and_says_so():
    X, y = _with_features(np.linspace(0, 1, 50))  # bounded: the box plot finds no extreme
    s = SMOTER(random_state=0)
    with pytest.warns(RelevanceWarning, match="no sample has relevance"):
        X_new, y_new = s.fit_resample(X, y)
    assert s.outcome_ == "no-rare" and s.relevance_rule_ == "boxplot" and s.n_rare_ == 0
    np.testing.assert_array_equal(X_new, X)
    np.testing.assert_array_equal(y_new, y)
    np.testing.assert_array_equal(s.sample_indices_, np.arange(50))


def test_every_sample_rare_by_the_callers_relevance_gives_the_set_back():
    X, y = _skewed()
    s = SMOGN(random_state=0, over=2.0)
    with pytest.warns(RelevanceWarning, match="every sample has relevance"):
        X_new, y_new = s.fit_resample(X, y, rel=np.ones_like(y))
    assert s.outcome_ == "no-frequent" and s.relevance_rule_ == "given"  # never replaced
    np.testing.assert_array_equal(y_new, y)
    # two values half and half: the median rule would call both rare; the box plot none
    X2, y2 = _with_features(np.r_[np.zeros(50), np.ones(50)])
    with pytest.warns(RelevanceWarning, match="no sample"):
        _, y_out = smogn(X2, y2, random_state=0)
    np.testing.assert_array_equal(y_out, y2)
