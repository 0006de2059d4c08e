import numpy as np
import pytest
from scipy import stats

from latentdiff.metrics import regression_metrics, shot_metrics


def test_metrics_against_hand_computation():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.0, 5.0])
    m = regression_metrics(y, p)
    err = np.array([0.5, 0.0, 1.0, 1.0])
    assert m["mae"] == pytest.approx(2.5 / 4)
    assert m["mse"] == pytest.approx((0.25 + 0 + 1 + 1) / 4)
    # GM with one exact prediction: guarded, finite and tiny, not 0 / -inf
    assert 0 < m["gm"] < 0.05
    assert m["r2"] == pytest.approx(1 - 2.25 / 5.0)
    assert m["pearson"] == pytest.approx(stats.pearsonr(y, p)[0])
    assert m["spearman"] == pytest.approx(stats.spearmanr(y, p)[0])
    # GM without zeros is the geometric mean of the absolute errors
    assert regression_metrics(y, y + err + 0.5)["gm"] == pytest.approx(stats.gmean(err + 0.5))


def test_undefined_metrics_are_none():
    m = regression_metrics([1.0], [2.0])
    assert m["mae"] == 1.0 and m["pearson"] is None and m["r2"] is None
    m = regression_metrics([1.0, 1.0], [2.0, 3.0])  # constant target
    assert m["r2"] is None and m["pearson"] is None
    assert all(v is None for v in regression_metrics([], []).values())


def test_shot_metrics_with_empty_region():
    y = np.array([0.0, 1.0, 2.0])
    out = shot_metrics(y, y + 1, np.array(["many", "many", "medium"], dtype=object))
    assert out["all"]["mae"] == pytest.approx(1.0)
    assert out["few"]["mae"] is None and out["few"]["pearson"] is None
    assert out["medium"]["mse"] == pytest.approx(1.0)


def test_bad_shapes_and_nan_predictions():
    with pytest.raises(ValueError, match="y_pred has 2"):
        regression_metrics([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        regression_metrics([1, 2], [1, np.nan])
