"""INV / SQINV / LDS weights (seed 004, sec. 3.1) by hand and against the DIR reference."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from latentdiff.binning import Bins
from latentdiff.methods.reweighting import bin_weights, effective_counts, label_weights, lds_kernel

GOLDEN = Path(__file__).parent / "golden" / "lds.json"
COUNTS = [1, 2, 4, 9, 20, 45, 80, 120, 150, 130, 100, 70, 40, 25, 12, 6, 3, 2, 1, 1]
Y = np.repeat(np.arange(20), COUNTS).astype(float)
BINS = Bins.from_range(0, 20, n_bins=20)  # one bin per integer label, as the reference's ages


def test_kernels_are_symmetric_and_peak_at_one():
    for kernel in ("gaussian", "triangular", "laplace"):
        k = lds_kernel(kernel, 5, 2.0)
        assert k.shape == (5,) and k.max() == pytest.approx(1.0) and np.argmax(k) == 2
        np.testing.assert_allclose(k, k[::-1])
    # laplace by hand: exp(-|x| / 2) / 4, divided by its maximum 1 / 4
    np.testing.assert_allclose(lds_kernel("laplace", 5, 2.0), np.exp(-np.abs(np.arange(-2, 3)) / 2))
    # triangular(5) = [1/3, 2/3, 1, 2/3, 1/3]
    np.testing.assert_allclose(lds_kernel("triangular", 5), [1 / 3, 2 / 3, 1, 2 / 3, 1 / 3])
    imp = np.zeros(9)
    imp[4] = 1
    g = gaussian_filter1d(imp, 1.0)
    np.testing.assert_allclose(lds_kernel("gaussian", 9, 1.0), g / g.max())


def test_sqinv_and_inv_by_hand():
    w = label_weights(Y, BINS, "sqinv")
    raw = 1 / np.sqrt(np.asarray(COUNTS, float))[Y.astype(int)]
    np.testing.assert_allclose(w, raw * Y.size / raw.sum())
    assert w.mean() == pytest.approx(1.0)
    w = label_weights(Y, BINS, "inv")
    raw = 1 / np.clip(np.asarray(COUNTS, float), 5, 1000)[Y.astype(int)]
    np.testing.assert_allclose(w, raw * Y.size / raw.sum())


def test_lds_convolves_transformed_counts_with_zero_padding():
    k = lds_kernel("gaussian", 5, 2.0)
    n = np.sqrt(np.asarray(COUNTS, float))
    padded = np.concatenate([np.zeros(2), n, np.zeros(2)])
    smooth = np.array([padded[i : i + 5] @ k for i in range(20)])
    np.testing.assert_allclose(effective_counts(COUNTS, "sqinv", lds=True), smooth)
    w = label_weights(Y, BINS, "sqinv", lds=True)
    raw = 1 / smooth[Y.astype(int)]
    np.testing.assert_allclose(w, raw * Y.size / raw.sum())


def test_bin_weights_match_sample_weights_and_cover_empty_bins():
    y = np.r_[Y[Y < 10], Y[Y >= 12]]  # bins 10 and 11 empty
    for kw in ({"scheme": "sqinv"}, {"scheme": "inv"}, {"scheme": "sqinv", "lds": True}):
        table = bin_weights(y, BINS, **kw)
        np.testing.assert_allclose(table[BINS.assign(y)], label_weights(y, BINS, **kw))
        assert np.all(np.isfinite(table)) and np.all(table > 0)


def test_bad_weighting_arguments():
    with pytest.raises(ValueError, match="kernel"):
        lds_kernel("cauchy")
    with pytest.raises(ValueError, match="odd"):
        lds_kernel("gaussian", 4)
    with pytest.raises(ValueError, match="scheme"):
        label_weights(Y, BINS, "log")
    with pytest.raises(ValueError, match="LDS"):
        label_weights(Y, BINS, "none", lds=True)


def test_against_the_dir_reference():
    """Weights from YyzHarry/imbalanced-regression ``_prepare_weights`` (agedb-dir/datasets.py,
    commit a6fdc45) run out of tree on these labels; source and notes in tests/golden/lds.json.

    One reference quirk is not reproduced: for INV + LDS the reference convolves the *integer*
    clipped counts and scipy returns integers, so the smoothed counts are floored before 1 / x.
    We keep the real-valued smoothing of eq. 2 (seed 004) and check that flooring ours gives the
    reference's numbers, so the smoothing itself agrees.
    """
    gold = json.loads(GOLDEN.read_text())["outputs"]
    for case in gold["cases"]:
        scheme = {"sqrt_inv": "sqinv", "inverse": "inv"}[case["reweight"]]
        lds = case.get("lds")
        kw = {"scheme": scheme}
        if lds:
            kernel = lds["kernel_in_latentdiff"]
            kw.update(lds=True, kernel=kernel, ks=lds["ks"], sigma=lds["sigma"])
        ours = label_weights(Y, BINS, **kw)
        per_label = np.array([ours[Y == v][0] for v in range(20)])
        ref = np.asarray(case["weight_per_label"])
        if scheme == "inv" and lds:
            n = np.floor(effective_counts(COUNTS, **kw))
            raw = 1 / n[Y.astype(int)]
            floored = raw * Y.size / raw.sum()
            np.testing.assert_allclose([floored[Y == v][0] for v in range(20)], ref, rtol=1e-6)
            assert not np.allclose(per_label, ref, rtol=1e-6)  # the documented difference
        else:
            np.testing.assert_allclose(per_label, ref, rtol=1e-6)
    for win in gold["kernel_windows"]:
        kernel = {"triang": "triangular"}.get(win["kernel"], win["kernel"])
        np.testing.assert_allclose(
            lds_kernel(kernel, win["ks"], win["sigma"]), win["window"], rtol=1e-6
        )
