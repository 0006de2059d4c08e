"""Accuracy and macro-F1 of class predictions, overall and per shot region (scikit-learn's).

Region scores: ``accuracy`` over the test rows whose true class is in the region; ``macro_f1``
the mean over the region's classes of each class's F1 computed on the whole test set (so a
class's precision counts every row predicted as it, from any region). ``all`` is plain accuracy
and macro-F1 over every class. A region with no class is None.
"""

from __future__ import annotations

import numpy as np

from ..metrics import CLASS_METRICS
from .longtail import REGIONS

__all__ = ["CLASS_METRICS", "classification_metrics", "records"]


def classification_metrics(y_true, y_pred, region_of_class) -> dict[str, dict[str, float | None]]:
    """{region: {"accuracy", "macro_f1"}} for ``all`` and many / medium / few; ``y_true`` and
    ``y_pred`` are class codes 0..C-1, ``region_of_class`` the region name of each code."""
    from sklearn.metrics import accuracy_score, f1_score

    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of one length: {y_true.shape}, "
                         f"{y_pred.shape}")  # fmt: skip
    regions = np.asarray(region_of_class, dtype=object)
    labels = np.arange(regions.size)
    f1 = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)  # (C,)
    out = {"all": {"accuracy": float(accuracy_score(y_true, y_pred)),
                   "macro_f1": float(f1.mean())}}  # fmt: skip
    for region in REGIONS:
        in_region = regions == region  # (C,)
        rows = in_region[y_true]
        if not in_region.any() or not rows.any():
            out[region] = dict.fromkeys(CLASS_METRICS)
            continue
        out[region] = {
            "accuracy": float(accuracy_score(y_true[rows], y_pred[rows])),
            "macro_f1": float(f1[in_region].mean()),
        }
    return out


def records(dataset: str, method: str, seed: int, scores: dict) -> list[dict]:
    """Rows ``{dataset, method, seed, region, metric, value}`` of one run's scores."""
    return [
        {
            "dataset": dataset,
            "method": method,
            "seed": seed,
            "region": region,
            "metric": metric,
            "value": value,
        }  # fmt: skip
        for region, by_metric in scores.items()
        for metric, value in by_metric.items()
    ]
