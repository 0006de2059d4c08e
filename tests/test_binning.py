import numpy as np
import pytest

from latentdiff.binning import (
    DIR_THRESHOLDS,
    LATENTDIFF_THRESHOLDS,
    Bins,
    ShotRegions,
    regions_from_counts,
)


def test_eq14_edges_centres_and_assignment_by_hand():
    b = Bins.from_range(0.0, 10.0, n_bins=4)  # width 2.5
    np.testing.assert_allclose(b.edges, [0, 2.5, 5, 7.5, 10])
    np.testing.assert_allclose(b.centers, [1.25, 3.75, 6.25, 8.75])
    # b(y) = floor((y - y_min) / (y_max - y_min) * K); y_max goes to the last bin
    np.testing.assert_array_equal(b.assign([0, 2.49, 2.5, 9.99, 10.0]), [0, 0, 1, 3, 3])


def test_negative_float_range_and_bin_width():
    b = Bins.from_range(-1.0, 0.5, bin_width=0.5)
    assert b.n_bins == 3
    np.testing.assert_allclose(b.centers, [-0.75, -0.25, 0.25])
    np.testing.assert_array_equal(b.assign([-1.0, -0.51, -0.5, 0.5]), [0, 0, 1, 2])


def test_bin_width_not_dividing_range_covers_top():
    b = Bins.from_range(0, 1.05, bin_width=0.1)
    assert b.n_bins == 11 and b.high >= 1.05
    assert b.assign([1.05])[0] == 10


def test_out_of_range_labels_clip_or_raise():
    b = Bins.from_range(0, 1, n_bins=2)
    np.testing.assert_array_equal(b.assign([-5, 7]), [0, 1])
    with pytest.raises(ValueError, match="outside the bin range"):
        b.assign([7], clip=False)


def test_counts_with_empty_bins():
    b = Bins.fit([0, 0, 0, 10], n_bins=5)
    np.testing.assert_array_equal(b.counts([0, 0, 0, 10]), [3, 0, 0, 0, 1])


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"n_bins": 0}, "positive integer"),
        ({"n_bins": 2.5}, "positive integer"),
        ({"bin_width": -1}, "positive number"),
        ({}, "exactly one"),
        ({"n_bins": 2, "bin_width": 1}, "exactly one"),
    ],
)
def test_bad_bin_arguments(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        Bins.from_range(0, 1, **kwargs)


def test_constant_target_and_nan_are_refused():
    with pytest.raises(ValueError, match="constant target"):
        Bins.fit([3.0, 3.0, 3.0], n_bins=4)
    with pytest.raises(ValueError, match="non-finite"):
        Bins.fit([1.0, np.nan], n_bins=4)


def test_dir_thresholds_boundaries_are_medium():
    # exactly 100 and exactly 20 are medium (many > 100, few < 20)
    r = regions_from_counts([101, 100, 20, 19, 0], DIR_THRESHOLDS)
    assert r.tolist() == ["many", "medium", "medium", "few", "few"]
    r = regions_from_counts([71, 70, 30, 29], LATENTDIFF_THRESHOLDS)
    assert r.tolist() == ["many", "medium", "medium", "few"]


def test_shot_regions_from_training_labels_and_lists():
    y = np.r_[np.zeros(150), np.full(50, 1.0), np.full(5, 2.0)]
    b = Bins.from_range(0, 3, n_bins=3)
    s = ShotRegions.from_training_labels(y, b)
    assert s.of([0.1, 1.5, 2.9, 99.0]).tolist() == ["many", "medium", "few", "few"]
    assert "many > 100" in s.description
    fixed = ShotRegions.from_lists(b, many=[2], medium=[0], description="fixed")
    assert fixed.region_of_bin.tolist() == ["medium", "few", "many"]
    with pytest.raises(ValueError, match="both many and medium"):
        ShotRegions.from_lists(b, many=[1], medium=[1], description="x")


def test_decimal_edges_go_to_the_upper_bin():
    # 0.6 / 0.1 is 5.999... in binary floating point; a label on an edge belongs above it
    b = Bins.from_range(0, 5, n_bins=50)
    y = np.arange(51) / 10
    np.testing.assert_array_equal(b.assign(y), np.r_[np.arange(50), 49])
    np.testing.assert_array_equal(b.assign(y[:-1] + 0.05), np.arange(50))
