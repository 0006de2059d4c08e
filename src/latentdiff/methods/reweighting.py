"""Cost-sensitive reweighting: INV, SQINV (seed 004, sec. 4 baselines) and LDS (sec. 3.1).

The weights come from :func:`latentdiff.weighting.label_weights` in the data set's evaluation
bins. They weight the loss of stage-1 training and, when the head is retrained (LatentDiff
stage 7, RRT), the real samples and the synthetic samples at their bin's weight.

``lds`` is SQINV smoothed by the LDS kernel, as the DIR reference runs it
(``--reweight sqrt_inv --lds``); ``scheme="inv"`` gives INV + LDS.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from ..binning import Bins
from ..hooks import TrainHook
from ..weighting import INV_CLIP, KERNELS, bin_weights
from .base import NetworkMethod, RunContext


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
        clip: tuple[float, float] = INV_CLIP,
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
            "clip": tuple(clip),
        }
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
    scheme = "sqinv"
    lds = False
    defaults: dict = {}

    def make_hooks(self, ctx: RunContext | None) -> list[TrainHook]:
        kw = {"scheme": self.scheme, "lds": self.lds, **self.defaults, **self.options}
        try:
            return [WeightingHook(**kw)]
        except TypeError as e:
            raise ValueError(f"{self.name}: {e}") from None


class Inv(_Reweight):
    """INV: weights 1 / clip(n_b, 5, 1000)."""

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
