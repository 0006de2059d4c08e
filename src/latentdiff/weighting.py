"""Per-sample loss weights from the training label distribution: INV, SQINV and LDS (seed 004,
sec. 3.1 and the baselines of sec. 4).

Labels are counted in the data set's evaluation bins (:class:`latentdiff.binning.Bins`, the one
binning of the project). For the DIR benchmarks these are the reference's bins: one per year of
age, and 0.1-wide bins for STS-B-DIR.

* INV: ``w_i = 1 / clip(n_b(i), 5, 1000)`` (the clip is the reference code's; seed 004 only says
  "inverse frequency").
* SQINV: ``w_i = 1 / sqrt(n_b(i))``.
* LDS (eq. 2, seed 004): the effective density ``n~ = k * n`` is the (transformed) empirical
  count convolved with a symmetric kernel ``k``; ``w_i = 1 / n~_b(i)``. As in the reference, the
  convolution runs on the *transformed* counts (sqrt or clipped), the kernel is normalised by its
  maximum (so the centre tap is 1 and n~ >= the transformed count) and the ends are zero-padded.

Weights are rescaled to mean one over the training samples, so the loss keeps its scale.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.ndimage import convolve1d, gaussian_filter1d
from scipy.signal.windows import triang

from .binning import Bins

KERNELS: tuple[str, ...] = ("gaussian", "triangular", "laplace")
SCHEMES: tuple[str, ...] = ("none", "inv", "sqinv")
INV_CLIP: tuple[float, float] = (5.0, 1000.0)


def lds_kernel(kernel: str = "gaussian", ks: int = 5, sigma: float = 2.0) -> np.ndarray:
    """The symmetric LDS kernel window of ``ks`` taps, divided by its maximum (seed 004, eq. 2).

    * gaussian: a unit impulse in the middle of ``ks`` taps smoothed by scipy's
      ``gaussian_filter1d(sigma)`` (its default reflecting ends, as the reference builds it);
    * triangular: scipy's ``triang(ks)``;
    * laplace: ``exp(-|x| / sigma) / (2 sigma)`` at ``x = -(ks // 2) .. ks // 2``.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown LDS kernel {kernel!r}; choose one of {KERNELS}")
    if int(ks) != ks or ks < 1 or ks % 2 == 0:
        raise ValueError(f"kernel size ks must be a positive odd integer, got {ks!r}")
    if not sigma > 0:
        raise ValueError(f"kernel sigma must be positive, got {sigma!r}")
    half = int(ks) // 2
    if kernel == "gaussian":
        impulse = np.zeros(int(ks))
        impulse[half] = 1.0
        w = gaussian_filter1d(impulse, sigma=sigma)
    elif kernel == "triangular":
        w = triang(int(ks))
    else:
        x = np.arange(-half, half + 1, dtype=np.float64)
        w = np.exp(-np.abs(x) / sigma) / (2 * sigma)
    return w / w.max()


def effective_counts(
    counts,
    scheme: Literal["inv", "sqinv"] = "sqinv",
    lds: bool = False,
    kernel: str = "gaussian",
    ks: int = 5,
    sigma: float = 2.0,
    clip: tuple[float, float] = INV_CLIP,
) -> np.ndarray:
    """Per-bin count after the scheme's transform and, with ``lds``, the kernel smoothing."""
    n = np.asarray(counts, dtype=np.float64)
    if scheme == "sqinv":
        n = np.sqrt(n)
    elif scheme == "inv":
        n = np.clip(n, *clip)
    else:
        raise ValueError(f"scheme must be 'inv' or 'sqinv', got {scheme!r}")
    if lds:
        n = convolve1d(n, lds_kernel(kernel, ks, sigma), mode="constant", cval=0.0)
    return n


def _weight_table(b, n_bins, scheme, lds, kernel, ks, sigma, clip) -> np.ndarray:
    """Per-bin weights (K,) for training labels in bins ``b``, scaled so that the training
    samples' weights have mean one. A bin whose effective count is zero (empty, and no smoothed
    mass) is weighted as a count of one."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown weighting scheme {scheme!r}; choose one of {SCHEMES}")
    if scheme == "none":
        if lds:
            raise ValueError("LDS smooths a reweighting scheme: use scheme 'inv' or 'sqinv'")
        return np.ones(n_bins)
    n = effective_counts(np.bincount(b, minlength=n_bins), scheme, lds, kernel, ks, sigma, clip)
    n[n <= 0] = effective_counts([1.0], scheme, False, clip=clip)[0]
    table = 1.0 / n  # every training sample's own bin holds it, so its n > 0 already
    return table * (b.size / table[b].sum())


def label_weights(
    y,
    bins: Bins,
    scheme: Literal["none", "inv", "sqinv"] = "sqinv",
    lds: bool = False,
    kernel: str = "gaussian",
    ks: int = 5,
    sigma: float = 2.0,
    clip: tuple[float, float] = INV_CLIP,
) -> np.ndarray:
    """Mean-one weights ``w_i`` of training labels ``y`` (N,) for the weighted loss.

    ``scheme="none"`` gives ones (and LDS then has nothing to smooth: as in the reference, LDS
    needs a reweighting scheme, so ``lds=True`` with ``"none"`` is an error).
    """
    b = bins.assign(np.asarray(y, dtype=np.float64).reshape(-1))
    return _weight_table(b, bins.n_bins, scheme, lds, kernel, ks, sigma, clip)[b]


def bin_weights(
    y_train,
    bins: Bins,
    scheme: Literal["none", "inv", "sqinv"] = "sqinv",
    lds: bool = False,
    kernel: str = "gaussian",
    ks: int = 5,
    sigma: float = 2.0,
    clip: tuple[float, float] = INV_CLIP,
) -> np.ndarray:
    """The weight a label in each bin gets, (K,), on the scale of :func:`label_weights` over
    ``y_train``: the weight of synthetic samples placed in a bin. A bin whose effective count is
    zero (empty, and no smoothed mass) is weighted as a count of one."""
    b = bins.assign(np.asarray(y_train, dtype=np.float64).reshape(-1))
    return _weight_table(b, bins.n_bins, scheme, lds, kernel, ks, sigma, clip)
