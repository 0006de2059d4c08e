"""KL, Jensen-Shannon and Wasserstein divergences between real and synthetic features of a label
bin (seed 000, appendix C.4, Table 10 and Figures 38-41).

The paper gives the numbers per age bin but not how a divergence between two sets of
2048-dimensional vectors was computed. Our reading, the simplest that gives numbers of the
paper's kind (KL of order 1, Wasserstein of order 0.05 on ReLU features): **per feature
dimension, then averaged over dimensions**.

* KL and JS: each dimension's real and synthetic values are counted on one histogram of
  :data:`HIST_BINS` equal-width bins spanning both (``np.histogram_bin_edges`` of the pooled
  values); :data:`SMOOTHING` is added to every bin's probability (an empty synthetic bin would
  make KL infinite) and both are renormalised (``scipy.stats.entropy`` does that).
  KL is ``KL(real || synthetic)`` in nats (how badly the synthetic histogram covers the real
  one); JS is the Jensen-Shannon *divergence* in nats, the square of
  ``scipy.spatial.distance.jensenshannon`` (0 to ln 2).
* Wasserstein: ``scipy.stats.wasserstein_distance`` between the raw values of the dimension (no
  histogram), in feature units.

Small bins give noisy, upward-biased KL and JS (few rows fill a 20-bin histogram unevenly even
when both sides come from one distribution); compare them between methods on the same bins,
not against the paper's absolute values.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial import distance

#: histogram bins per dimension for KL and JS
HIST_BINS = 20
#: added to every histogram bin's probability before KL and JS
SMOOTHING = 1e-6


def histograms(a: np.ndarray, b: np.ndarray, bins: int = HIST_BINS):
    """Counts of two 1-D samples on shared equal-width bins spanning both."""
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=bins)
    return np.histogram(a, edges)[0], np.histogram(b, edges)[0]


def smoothed(counts: np.ndarray, eps: float = SMOOTHING) -> np.ndarray:
    p = counts / counts.sum()
    p = p + eps
    return p / p.sum()


def dimension_divergences(a, b, bins: int = HIST_BINS, eps: float = SMOOTHING) -> dict:
    """KL, JS and Wasserstein of one dimension's real values ``a`` and synthetic values ``b``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ca, cb = histograms(a, b, bins)
    p, q = smoothed(ca, eps), smoothed(cb, eps)
    return {
        "kl": float(stats.entropy(p, q)),
        "js": float(distance.jensenshannon(p, q) ** 2),
        "wasserstein": float(stats.wasserstein_distance(a, b)),
    }


def divergence_table(real: np.ndarray, syn: np.ndarray, bins: int = HIST_BINS,
                     eps: float = SMOOTHING) -> dict:  # fmt: skip
    """The mean over dimensions of :func:`dimension_divergences`."""
    real, syn = np.asarray(real, np.float64), np.asarray(syn, np.float64)
    per = [dimension_divergences(real[:, j], syn[:, j], bins, eps) for j in range(real.shape[1])]
    return {k: float(np.mean([d[k] for d in per])) for k in ("kl", "js", "wasserstein")}
