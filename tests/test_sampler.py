import numpy as np
import pytest
from conftest import FAST_DIFFUSION

from latentdiff.samplers import LatentDiffSampler


def _features(n=300, m=8, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.exponential(1.0, n)
    Z = np.c_[y[:, None] + rng.normal(0, 0.2, (n, 1)), rng.normal(0, 1, (n, m - 1))]
    return Z.astype(np.float32), y


def test_fit_resample_originals_first_and_rare_bins_grow():
    Z, y = _features()
    s = LatentDiffSampler(n_bins=6, ratio=0.5, diffusion=FAST_DIFFUSION, random_state=0)
    Zr, yr = s.fit_resample(Z, y)
    np.testing.assert_array_equal(Zr[: len(Z)], Z)
    np.testing.assert_array_equal(yr[: len(y)], y)
    assert Zr.dtype == Z.dtype and yr.dtype == y.dtype
    n_syn = len(yr) - len(y)
    assert n_syn == sum(r["accepted"] for r in s.report_) > 0
    # synthetic labels are bin centres (y_syn := c)
    assert set(np.round(yr[len(y) :], 9)) <= set(np.round(s.bins_.centers, 9))
    rep = {r["bin"]: r for r in s.report_}
    # the rarest non-empty bin is asked for more samples than the most common one
    rare = min((r for r in s.report_ if r["n_real"] > 0), key=lambda r: r["n_real"])
    common = max(s.report_, key=lambda r: r["n_real"])
    assert rep[rare["bin"]]["requested"] > rep[common["bin"]]["requested"]
    assert sum(r["requested"] for r in s.report_) == round(0.5 * len(y))


# repeatability, clone and the imblearn pipeline: tests/test_sampler_contract.py (all samplers)


def test_sample_conditions_on_bin_centres_and_checks_dimension():
    Z, y = _features()
    s = LatentDiffSampler(n_bins=4, diffusion=FAST_DIFFUSION, random_state=0).fit(Z, y)
    out = s.sample(np.array([0.1, 3.0]))
    assert out.shape == (2, Z.shape[1]) and out.dtype == np.float32
    assert s.sample(np.array([])).shape == (0, Z.shape[1])


@pytest.mark.parametrize(
    "Z, y, msg",
    [
        (np.ones((5, 2)), np.array([1.0, 2, 3, 4, np.nan]), "NaN or inf"),
        (np.c_[np.ones(4), [1, 2, np.inf, 4]], np.arange(4.0), "NaN or inf"),
        (np.ones(5), np.arange(5.0), "2-D"),
        (np.ones((5, 2)), np.arange(4.0), "one label per row"),
        (np.ones((1, 2)), np.arange(1.0), "at least 2"),
        (np.ones((3, 2)), np.array(["a", "b", "c"]), "Unknown label type"),
    ],
)
def test_bad_input_is_named(Z, y, msg):
    with pytest.raises(ValueError, match=msg):
        LatentDiffSampler(diffusion=FAST_DIFFUSION).fit(Z, y)


def test_sample_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LatentDiffSampler().sample(np.array([1.0]))
