"""``gaussian``: per generation bin, z ~ N(mu_b, Sigma_b) with mu_b the mean and Sigma_b a shrunk
covariance of the bin's real features (issue 11; a cheap stand-in for the diffusion model).

Sigma_b is estimated in standardised feature units (:mod:`latentdiff.generators.empirical`) by
scikit-learn's Oracle Approximating Shrinkage (``shrinkage = "oas"``, the default; Chen et al.,
2010, eq. 23) or Ledoit-Wolf (``"ledoit-wolf"``; Ledoit & Wolf, 2004): both
(1 - rho) S + rho tr(S)/m I, shrinking the sample covariance S towards a scaled identity. The
default is OAS because the bins that matter are the few-shot ones, with fewer rows than feature
dimensions, and for Gaussian data OAS's shrinkage has the smaller error at small n (Chen et al.,
sec. IV; scikit-learn's "Ledoit-Wolf vs OAS estimation" example); both are well conditioned for
any n >= 2. A bin with fewer than ``min_rows`` rows (default 10) borrows rows from its nearest
bins by label (:func:`latentdiff.generators.empirical.borrowed_rows`) for both mu_b and Sigma_b.

Sampling: z = mu_b + A_b e, e ~ N(0, I), with A_b = V diag(sqrt(lambda)) from the symmetric
eigendecomposition Sigma_b = V diag(lambda) V^T (A_b A_b^T = Sigma_b; eigenvalues rounded below
zero are clipped), so a singular estimate (two identical rows) samples its mean instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.covariance import OAS, LedoitWolf

from ..settings import GaussianConfig
from .empirical import BinnedGenerator

ESTIMATORS = {"oas": OAS, "ledoit-wolf": LedoitWolf}


@dataclass(frozen=True)
class BinGaussian:
    """N(mean, factor factor^T) of one bin, standardised units; ``shrinkage``: rho."""

    mean: np.ndarray  # (m,)
    factor: np.ndarray  # (m, m)
    shrinkage: float


class FeatureGaussian(BinnedGenerator):
    """Per-bin Gaussian p(z | c) = N(mu_c, Sigma_c) over features (settings:
    :class:`latentdiff.settings.GaussianConfig`). After ``fit``, ``bins_`` holds each bin's
    :class:`BinGaussian` in the order of ``conditions_``."""

    name = "feature-gaussian"
    config_class = GaussianConfig

    def _fit_bin(self, z: np.ndarray) -> BinGaussian:
        est = ESTIMATORS[self.config.shrinkage](store_precision=False).fit(z)
        w, V = np.linalg.eigh(est.covariance_)
        return BinGaussian(
            z.mean(axis=0), V * np.sqrt(np.clip(w, 0.0, None)), float(est.shrinkage_)
        )

    def _sample_bin(self, fitted: BinGaussian, n: int, rng: np.random.Generator) -> np.ndarray:
        e = rng.standard_normal((n, fitted.mean.size))  # (n, m)
        return fitted.mean + e @ fitted.factor.T  # z = mu + A e, A A^T = Sigma

    @property
    def bins_(self) -> list[BinGaussian]:
        return list(self._fitted)
