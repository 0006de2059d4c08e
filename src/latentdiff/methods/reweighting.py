"""Cost-sensitive reweighting: INV, SQINV (seed 004, sec. 4 baselines) and LDS (sec. 3.1): the
weights, the training hook that applies them and the registry's methods.

Labels are counted in the data set's evaluation bins (:class:`latentdiff.binning.Bins`, the one
binning of the project). For the DIR benchmarks these are the reference's bins: one per year of
age, and 0.1-wide bins for STS-B-DIR.

* INV: ``w_i = 1 / n_b(i)``. On the age benchmarks the DIR reference clips the counts to
  [5, 1000] first (``INV_CLIP``; seed 004 only says "inverse frequency"); its STS-B-DIR code does
  not clip. The default follows the reference of each data set (:func:`default_inv_clip`: no
  clip on STS-B-DIR, [5, 1000] elsewhere); ``inv.clip=null`` or ``inv.clip=[5,1000]`` chooses.
* SQINV: ``w_i = 1 / sqrt(n_b(i))``.
* LDS (eq. 2, seed 004): the effective density ``n~ = k * n`` is the (transformed) empirical
  count convolved with a symmetric kernel ``k``; ``w_i = 1 / n~_b(i)``. As in the reference, the
  convolution runs on the *transformed* counts (sqrt or clipped), the kernel is normalised by its
  maximum (so the centre tap is 1 and n~ >= the transformed count) and the ends are zero-padded.
  ``lds`` is SQINV smoothed by the LDS kernel, as the DIR reference runs it
  (``--reweight sqrt_inv --lds``); ``scheme="inv"`` gives INV + LDS.

Weights are rescaled to mean one over the training samples, so the loss keeps its scale. They
weight the loss of stage-1 training and, when the head is retrained (LatentDiff stage 7, RRT),
the real samples and the synthetic samples at their bin's weight.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.ndimage import convolve1d, gaussian_filter1d
from scipy.signal.windows import triang
from torch import nn

from ..binning import Bins
from ..hooks import TrainHook
from .base import NetworkMethod, RunContext

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
    clip: tuple[float, float] | None = INV_CLIP,
) -> np.ndarray:
    """Per-bin count after the scheme's transform (INV's ``clip``: None for none) and, with
    ``lds``, the kernel smoothing."""
    n = np.asarray(counts, dtype=np.float64)
    if scheme == "sqinv":
        n = np.sqrt(n)
    elif scheme == "inv":
        n = n if clip is None else np.clip(n, *clip)
    else:
        raise ValueError(f"scheme must be 'inv' or 'sqinv', got {scheme!r}")
    if lds:
        n = convolve1d(n, lds_kernel(kernel, ks, sigma), mode="constant", cval=0.0)
    return n


def bin_weights(
    y_train, bins: Bins, scheme: Literal["none", "inv", "sqinv"] = "sqinv", **smoothing
) -> np.ndarray:
    """The weight of a label in each bin, (K,), scaled so that the weights of the training
    labels ``y_train`` have mean one; also the weight of synthetic samples placed in a bin.
    ``smoothing``: ``lds``, ``kernel``, ``ks``, ``sigma`` and ``clip`` of
    :func:`effective_counts`.

    ``scheme="none"`` gives ones (and LDS then has nothing to smooth: as in the reference, LDS
    needs a reweighting scheme, so ``lds=True`` with ``"none"`` is an error). A bin whose
    effective count is zero (empty, and no smoothed mass) is weighted as a count of one.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown weighting scheme {scheme!r}; choose one of {SCHEMES}")
    b = bins.assign(np.asarray(y_train, dtype=np.float64).reshape(-1))
    if scheme == "none":
        if smoothing.get("lds"):
            raise ValueError("LDS smooths a reweighting scheme: use scheme 'inv' or 'sqinv'")
        return np.ones(bins.n_bins)
    n = effective_counts(np.bincount(b, minlength=bins.n_bins), scheme, **smoothing)
    clip = smoothing.get("clip", INV_CLIP)
    n[n <= 0] = effective_counts([1.0], scheme, False, clip=clip)[0]
    table = 1.0 / n  # every training sample's own bin holds it, so its n > 0 already
    return table * (b.size / table[b].sum())


def label_weights(y, bins: Bins, scheme: str = "sqinv", **kw) -> np.ndarray:
    """Mean-one weights ``w_i`` of training labels ``y`` (N,) for the weighted loss; ``scheme``
    and ``kw`` as for :func:`bin_weights`."""
    table = bin_weights(y, bins, scheme, **kw)
    return table[bins.assign(np.asarray(y, dtype=np.float64).reshape(-1))]


def default_inv_clip(dataset: str | None) -> tuple[float, float] | None:
    """INV's count clip as the reference code of ``dataset`` applies it: none on STS-B-DIR,
    [5, 1000] on the age benchmarks and (this project's choice) on every other data set."""
    return None if dataset == "stsb-dir" else INV_CLIP


# --- the hook and the methods ---------------------------------------------------------------------


class WeightingHook(TrainHook):
    """Per-sample weights ``w(y)`` by the bin of ``y`` (stage 1 and head retraining)."""

    name = "weights"
    kind = "weights"
    head_stage = True

    def __init__(
        self,
        scheme: str = "sqinv",
        lds: bool = False,
        kernel: str = "gaussian",
        ks: int = 5,
        sigma: float = 2.0,
        clip: tuple[float, float] | None = INV_CLIP,
    ):
        if scheme not in ("inv", "sqinv"):
            raise ValueError(f"weighting scheme must be 'inv' or 'sqinv', got {scheme!r}")
        if kernel not in KERNELS:
            raise ValueError(f"unknown LDS kernel {kernel!r}; choose one of {KERNELS}")
        self.kw = {
            "scheme": scheme,
            "lds": bool(lds),
            "kernel": kernel,
            "ks": int(ks),
            "sigma": float(sigma),
            "clip": None if clip is None else tuple(float(c) for c in clip),
        }
        c = self.kw["clip"]
        if c is not None and (len(c) != 2 or not 0 < c[0] <= c[1]):
            raise ValueError(f"clip must be null or [low, high] with 0 < low <= high, got {clip!r}")
        self.table: np.ndarray | None = None
        self.bins: Bins | None = None

    def setup(self, model: nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        self.bins = bins
        self.table = bin_weights(y_train, bins, **self.kw)

    def sample_weights(self, y: np.ndarray) -> np.ndarray:
        if self.table is None or self.bins is None:
            raise RuntimeError("WeightingHook.setup must run before sample_weights")
        return self.table[self.bins.assign(y)]

    def info(self) -> dict:
        return (
            {}
            if self.table is None
            else {"max_over_min": float(self.table.max() / self.table.min())}
        )


class _Reweight(NetworkMethod):
    hook = WeightingHook
    scheme = "sqinv"
    lds = False

    def hook_options(self, ctx: RunContext | None) -> dict:
        kw = {"scheme": self.scheme, "lds": self.lds, **self.options}
        if kw["scheme"] == "inv" and "clip" not in kw and ctx is not None:
            kw["clip"] = default_inv_clip(ctx.dataset.name)
        return kw


class Inv(_Reweight):
    """INV: weights 1 / n_b, the counts clipped to [5, 1000] except on STS-B-DIR."""

    name = "inv"
    scheme = "inv"


class Sqinv(_Reweight):
    """SQINV: weights 1 / sqrt(n_b)."""

    name = "sqinv"
    scheme = "sqinv"


class LDS(_Reweight):
    """LDS: SQINV on the kernel-smoothed label density (gaussian, ks = 5, sigma = 2)."""

    name = "lds"
    scheme = "sqinv"
    lds = True
