"""Regression metrics overall and per shot region (seed 004, appendix C.2). Pure numpy.

A metric that is undefined on its inputs (an empty region, a correlation of fewer than two points
or of a constant vector, R^2 of a constant target) is ``None``, never NaN and never a crash.
"""

from __future__ import annotations

import numpy as np

from .binning import REGIONS
from .validation import check_pair

#: the columns of every table: all samples, then each shot region
REGION_COLUMNS: tuple[str, ...] = ("all", *REGIONS)

METRICS: tuple[str, ...] = ("mae", "mse", "gm", "pearson", "spearman", "r2")
LOWER_IS_BETTER = {
    "mae": True,
    "mse": True,
    "gm": True,
    "pearson": False,
    "spearman": False,
    "r2": False,
    # the classification task's metrics (latentdiff.classification.scores)
    "accuracy": False,
    "macro_f1": False,
}
#: the metrics of ``--task classification`` (seed 002): accuracy and macro-F1 per region
CLASS_METRICS: tuple[str, ...] = ("accuracy", "macro_f1")

#: Absolute errors below this are raised to it before the geometric mean, so that one exact
#: prediction does not make GM zero (and its log -inf).
GM_EPS = 1e-8


def _corr(name: str, a, b) -> float | None:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    from scipy import stats  # imported when first needed: the CLI checks settings without it

    return float(getattr(stats, name)(a, b)[0])


def regression_metrics(y_true, y_pred) -> dict[str, float | None]:
    """MAE, MSE, GM, Pearson, Spearman and R^2 of one set of predictions."""
    y_true, y_pred = check_pair(y_true, y_pred)
    if y_true.size == 0:
        return dict.fromkeys(METRICS)
    err = np.abs(y_pred - y_true)
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "mae": float(err.mean()),
        "mse": float(np.mean(err**2)),
        # GM = (prod e_i)^(1/n), seed 004 app. C.2, computed in log space
        "gm": float(np.exp(np.mean(np.log(np.maximum(err, GM_EPS))))),
        "pearson": _corr("pearsonr", y_true, y_pred),
        "spearman": _corr("spearmanr", y_true, y_pred),
        "r2": None if (y_true.size < 2 or ss_tot == 0) else 1.0 - float(np.sum(err**2)) / ss_tot,
    }


#: the region ``with-data`` of a zero-shot protocol: every sample of many, medium or few
WITH_DATA = "with-data"


def shot_metrics(y_true, y_pred, regions, extra=()) -> dict[str, dict[str, float | None]]:
    """Metrics for ``all`` and for each of many / medium / few, then for each region named in
    ``extra`` (a zero-shot protocol's ``zero-shot-interp`` ..., :mod:`latentdiff.zeroshot`;
    ``with-data`` is many, medium and few together).

    ``regions`` is the region name of each sample (e.g. from ``ShotRegions.of(y_true)``).
    """
    y_true, y_pred = check_pair(y_true, y_pred)
    regions = np.asarray(regions, dtype=object).reshape(-1)
    if regions.shape != y_true.shape:
        raise ValueError(f"need one region per sample ({y_true.size}), got {regions.size}")
    out = {"all": regression_metrics(y_true, y_pred)}
    for r in REGIONS:
        m = regions == r
        out[r] = regression_metrics(y_true[m], y_pred[m])
    for r in extra:
        m = np.isin(regions, REGIONS) if r == WITH_DATA else regions == r
        out[r] = regression_metrics(y_true[m], y_pred[m])
    return out


def region_counts(regions) -> dict[str, int]:
    """Number of samples in all and in each region."""
    regions = np.asarray(regions, dtype=object).reshape(-1)
    return {"all": int(regions.size), **{r: int((regions == r).sum()) for r in REGIONS}}


def per_bin_errors(bins, y_true, y_pred) -> dict[str, list]:
    """Test error per evaluation bin (``bins``: a :class:`latentdiff.binning.Bins`): the bin
    centres, MAE, MSE and sample count of each bin (``None`` errors for an empty bin), as
    ``runs.json`` stores them for the per-bin plot."""
    y_true, y_pred = check_pair(y_true, y_pred)
    idx = bins.assign(y_true)
    err = np.abs(y_pred - y_true)
    n = np.bincount(idx, minlength=bins.n_bins)
    abs_sum = np.bincount(idx, weights=err, minlength=bins.n_bins)
    sq_sum = np.bincount(idx, weights=err**2, minlength=bins.n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mae, mse = abs_sum / n, sq_sum / n
    return {
        "bins": bins.centers.tolist(),
        "mae": [float(v) if k else None for v, k in zip(mae, n, strict=True)],
        "mse": [float(v) if k else None for v, k in zip(mse, n, strict=True)],
        "n": n.tolist(),
    }


def bin_balanced_error(y_true, y_pred, bins, metric: str = "mse") -> float:
    """The mean over label bins (``bins``: a :class:`latentdiff.binning.Bins`; the empty ones
    skipped) of each bin's MSE or MAE: the criterion ``latentdiff-tuned`` and ``auto`` choose by
    on validation, so that a rare bin counts as much as a common one."""
    if metric not in ("mse", "mae"):
        raise ValueError(f"metric must be 'mse' or 'mae', got {metric!r}")
    y_true, y_pred = check_pair(y_true, y_pred)
    if y_true.size == 0:
        raise ValueError("no samples to score")
    err = np.abs(y_pred - y_true)
    err = err**2 if metric == "mse" else err
    idx = bins.assign(y_true)
    n = np.bincount(idx, minlength=bins.n_bins)
    s = np.bincount(idx, weights=err, minlength=bins.n_bins)
    return float(np.mean(s[n > 0] / n[n > 0]))
