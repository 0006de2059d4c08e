"""Labels as users have them (issue 10): integer ratings, long-tailed counts, negative labels, a
large constant offset and heavy tails. LatentDiff's generation bins are never narrower than the
labels' resolution, discrete labels condition on values that occur, and synthetic labels stay
finite and inside the training range (:class:`latentdiff.binning.GenerationBins`)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FAST_DIFFUSION

from latentdiff.binning import (
    DISCRETE_MAX_VALUES,
    Bins,
    GenerationBins,
    is_discrete,
    label_resolution,
)
from latentdiff.samplers import LatentDiffSampler

TINY = {**FAST_DIFFUSION, "n_steps": 30}


def _ratings(rng, n):
    return rng.choice([1.0, 2, 3, 4, 5], n, p=[0.05, 0.1, 0.2, 0.4, 0.25])


def _counts(rng, n):  # a long tail, 0..40
    return np.minimum(rng.negative_binomial(1, 0.12, n), 40).astype(np.float64)


def _negative(rng, n):
    return rng.normal(-50.0, 10.0, n)


def _offset(rng, n):
    return 10_000.0 + rng.exponential(0.05, n)


def _lognormal(rng, n):
    return rng.lognormal(0.0, 1.5, n)


CASES = {
    "ratings": (_ratings, True),
    "counts": (_counts, True),
    "negative": (_negative, False),
    "offset-1e4": (_offset, False),
    "lognormal": (_lognormal, False),
}


def _data(draw, n=240, m=4, seed=0):
    rng = np.random.default_rng(seed)
    y = draw(rng, n)
    s = (y - y.mean()) / y.std()
    Z = np.c_[s[:, None] + rng.normal(0, 0.3, (n, 1)), rng.normal(0, 1, (n, m - 1))]
    return Z.astype(np.float32), y


@pytest.mark.parametrize("case", sorted(CASES))
def test_sampler_fits_and_synthetic_labels_make_sense(case):
    draw, discrete = CASES[case]
    Z, y = _data(draw)
    s = LatentDiffSampler(n_bins=20, ratio=0.5, diffusion=TINY, random_state=0)
    Zr, yr = s.fit_resample(Z, y)
    y_syn, Z_syn = yr[len(y) :], Zr[len(y) :]
    assert y_syn.size > 0 and np.all(np.isfinite(Z_syn)) and np.all(np.isfinite(y_syn))
    assert y.min() <= y_syn.min() and y_syn.max() <= y.max()  # within the training range
    assert s.discrete_labels_ is discrete
    # bins are never narrower than the resolution
    assert s.bins_.width >= s.label_resolution_ * (1 - 1e-12)
    if discrete:
        assert s.label_resolution_ == 1.0
        assert np.isin(y_syn, y).all()  # synthetic labels are values that occur
    else:
        assert s.label_resolution_ == 0.0
        # continuous labels: eq. 14 as written, conditions on bin centres
        np.testing.assert_array_equal(s.bins_.edges, Bins.fit(y, n_bins=20).edges)
        assert set(y_syn) <= set(s.bins_.centers)
    # synthetic samples only where real ones are (empty bins get priority 0)
    assert np.all(s.bin_counts_[s.bins_.assign(y_syn)] > 0)
    assert np.all(s.priority_[s.bin_counts_ == 0] == 0)
    # the generator conditions on standardised labels, whatever their offset or sign
    g = s.generator_
    c = (s.bin_labels_[s.bins_.assign(y)] - g.c_mean_) / g.c_std_
    assert abs(c.mean()) < 1e-6 and abs(c.std() - 1) < 1e-6


def test_ratings_get_one_bin_per_value_centred_on_it():
    y = _ratings(np.random.default_rng(1), 300)
    grid = GenerationBins.fit(y, 20)
    assert grid.bins.n_bins == 5 and grid.bins.width == pytest.approx(1.0)
    np.testing.assert_allclose(grid.bins.centers, [1, 2, 3, 4, 5], atol=1e-12)
    np.testing.assert_array_equal(grid.labels, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(grid.bins.assign(y), y - 1)  # no value on an edge
    # before: 20 bins of 0.2, 15 of them empty, conditions 1.1, ..., 4.9 that never occur
    old = Bins.fit(y, n_bins=20)
    assert (old.counts(y) == 0).sum() == 15 and not np.isin(old.centers, y).any()


def test_quality_scores_and_a_missing_level():
    y = np.r_[np.full(30, 3.0), np.full(100, 5.0), np.full(80, 6.0), np.full(20, 8.0), 9.0]
    grid = GenerationBins.fit(y, 20)  # no 4 and no 7: their bins stay empty
    assert grid.bins.n_bins == 7
    counts = grid.bins.counts(y)
    np.testing.assert_array_equal(counts, [30, 0, 100, 80, 0, 20, 1])
    np.testing.assert_array_equal(grid.labels[counts > 0], [3, 5, 6, 8, 9])


def test_counts_with_few_bins_condition_on_the_lower_median_of_each_bin():
    y = np.r_[np.zeros(50), np.ones(30), np.full(5, 2.0), np.full(4, 3.0), 7.0, 8.0, 40.0]
    grid = GenerationBins.fit(y, 10)  # width 4 > resolution 1: eq. 14's edges
    np.testing.assert_array_equal(grid.bins.edges, Bins.fit(y, n_bins=10).edges)
    b = grid.bins.assign(y)
    for k in np.unique(b):
        vals = np.sort(y[b == k])
        assert grid.labels[k] == vals[(vals.size - 1) // 2]
    assert grid.labels[0] == 0.0 and grid.labels[1] == 7.0 and grid.labels[-1] == 40.0


@pytest.mark.parametrize(
    ("y", "resolution"),
    [
        (np.array([1.0, 2, 3, 4, 5, 3, 3]), 1.0),
        (np.array([0.0, 0.5, 2.0, 5.0]), 0.5),  # few values, not a lattice: the smallest gap
        (np.arange(-300.0, 0.0, 3.0), 3.0),  # a negative lattice of 100 values
        (10_000 + 0.01 * np.arange(120), 0.01),  # a constant offset
        (np.arange(0, 26, dtype=np.float32) * np.float32(0.2), 0.2),  # float32 scores
        (np.arange(101.0), 1.0),  # integer ages: a lattice, but not discrete
        (np.random.default_rng(0).normal(size=500), 0.0),  # continuous
        (np.random.default_rng(0).lognormal(0, 1.5, 500), 0.0),
        (np.r_[np.arange(100.0), 1e9], 0.0),  # a lattice too fine for its range: continuous
    ],
)
def test_label_resolution(y, resolution):
    assert label_resolution(y) == pytest.approx(resolution, rel=1e-6)
    assert is_discrete(y) == (np.unique(y).size <= DISCRETE_MAX_VALUES)


def test_continuous_labels_keep_eq_14_bit_for_bit():
    y = np.random.default_rng(3).exponential(size=400)
    grid = GenerationBins.fit(y, 20)
    ref = Bins.fit(y, n_bins=20)
    assert not grid.discrete and grid.resolution == 0.0
    assert grid.bins.edges.tobytes() == ref.edges.tobytes()
    assert grid.labels.tobytes() == ref.centers.tobytes()


def test_lattice_with_many_values_keeps_centres_unless_bins_would_be_narrower():
    y = np.random.default_rng(0).integers(0, 101, 2000).astype(np.float64)  # ages
    grid = GenerationBins.fit(y, 20)
    assert grid.resolution == 1.0 and not grid.discrete
    assert grid.bins.edges.tobytes() == Bins.fit(y, n_bins=20).edges.tobytes()
    fine = GenerationBins.fit(y, 400)  # 0.25-year bins would be narrower than a year
    assert fine.bins.n_bins == 101 and fine.bins.width == pytest.approx(1.0)
    np.testing.assert_allclose(fine.labels, np.arange(101.0), atol=1e-9)


def test_generation_bins_refuse_a_constant_target_and_bad_n_bins():
    with pytest.raises(ValueError, match="constant target"):
        GenerationBins.fit(np.ones(10), 5)
    with pytest.raises(ValueError, match="n_bins"):
        GenerationBins.fit(np.arange(10.0), 0)
