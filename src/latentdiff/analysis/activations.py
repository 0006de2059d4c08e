"""Per-dimension activation statistics of real against synthetic features (seed 000, appendix
C.3, Figures 29-37): the mean and the standard deviation of every feature dimension in each
set, and the Pearson correlation across dimensions between the real and the synthetic means
(the paper's r = 0.987) and between the standard deviations.

A correlation is undefined when one side is constant across dimensions (e.g. one row per set:
every standard deviation 0); it is then None.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def profile(real: np.ndarray, syn: np.ndarray) -> dict[str, np.ndarray]:
    """Per dimension: ``real_mean``, ``syn_mean``, ``real_std``, ``syn_std`` (population)."""
    real, syn = np.asarray(real, np.float64), np.asarray(syn, np.float64)
    return {"real_mean": real.mean(axis=0), "syn_mean": syn.mean(axis=0),
            "real_std": real.std(axis=0), "syn_std": syn.std(axis=0)}  # fmt: skip


def pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(stats.pearsonr(a, b).statistic)


def activation_table(real: np.ndarray, syn: np.ndarray) -> dict:
    """``mean_correlation``, ``std_correlation`` and ``mean_abs_difference`` (of the means,
    averaged over dimensions: Figure 35's spread of real minus synthetic)."""
    p = profile(real, syn)
    return {
        "mean_correlation": pearson(p["real_mean"], p["syn_mean"]),
        "std_correlation": pearson(p["real_std"], p["syn_std"]),
        "mean_abs_difference": float(np.abs(p["real_mean"] - p["syn_mean"]).mean()),
    }
