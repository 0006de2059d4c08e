"""Methods that replace the loss: Focal-R (seed 004) and Balanced MSE's BMC, BNI and GAI
(Ren et al. 2022).

The network predicts standardised labels; these losses are defined in label units (Focal-R's
``beta`` multiplies an error in label units, Balanced MSE's ``sigma`` is a label-space noise
scale), so each hook maps predictions back to label units and divides the loss by ``y_scale^2``
(``y_scale`` for L1): the same optimisation scale as the plain standardised loss.

Defaults where the references set them per data set: Focal-R uses the data set's stage-1 loss
(L1 for ages, MSE otherwise) with the reference's ``beta`` (0.2 with L1 for ages, 20 with MSE for
STS-B-DIR; MSE data sets other than STS-B take STS-B's 20), ``gamma = 1``, sigmoid. Balanced MSE
starts ``sigma`` at a tenth of the training label std (AgeDB-DIR: 1.6 years; the authors start at
1.0 year on raw ages) and learns it with its own learning rate (``sigma_lr = 1e-2``). BNI uses the
evaluation bins' centres and their LDS-smoothed counts; GAI an 8-component Gaussian mixture fitted
on the training labels.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor, nn

from ..binning import Bins
from ..hooks import TrainHook
from ..losses import BalancedMSELoss, bni_buckets, fit_label_gmm, focal_l1_loss, focal_mse_loss
from .base import NetworkMethod, RunContext


class FocalHook(TrainHook):
    name = "focal-r"
    kind = "loss"
    head_stage = True

    def __init__(self, kind: str = "mse", beta: float | None = None, gamma: float = 1.0,
                 activation: str = "sigmoid"):  # fmt: skip
        if kind not in ("mse", "l1"):
            raise ValueError(f"focal-r kind must be 'mse' or 'l1', got {kind!r}")
        if activation not in ("sigmoid", "tanh"):
            raise ValueError(f"focal-r activation must be 'sigmoid' or 'tanh', got {activation!r}")
        self.base, self.gamma, self.activation = kind, float(gamma), activation
        self.beta = float(beta) if beta is not None else (20.0 if kind == "mse" else 0.2)
        if not self.beta > 0 or self.gamma < 0:
            raise ValueError("focal-r needs beta > 0 and gamma >= 0")
        self.scale = 1.0

    def setup(self, model: nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        self.scale = float(model.y_scale)

    def loss(self, pred: Tensor, target: Tensor, weight: Tensor | None) -> Tensor:
        s = self.scale
        fn = focal_mse_loss if self.base == "mse" else focal_l1_loss
        out = fn(pred * s, target * s, weight, beta=self.beta, gamma=self.gamma,
                 activation=self.activation)  # fmt: skip
        return out / (s**2 if self.base == "mse" else s)


class FocalR(NetworkMethod):
    name = "focal-r"

    def make_hooks(self, ctx: RunContext | None) -> list[TrainHook]:
        kw = dict(self.options)
        if ctx is not None:
            kw.setdefault("kind", ctx.train.loss)
        try:
            return [FocalHook(**kw)]
        except TypeError as e:
            raise ValueError(f"focal-r: {e}") from None


class BalancedMSEHook(TrainHook):
    """Balanced MSE in stage 1. It already balances the loss, so it refuses per-sample weights
    (``kind = "loss"`` and checked against a weighting in :meth:`loss`), and it does not act in
    head retraining."""

    kind = "loss"
    takes_weights = False

    def __init__(self, mode: str, init_noise_sigma: float | None = None, sigma_lr: float = 1e-2,
                 lds: bool = True, n_components: int = 8):  # fmt: skip
        if mode not in ("bmc", "bni", "gai"):
            raise ValueError(f"Balanced MSE mode must be bmc, bni or gai, got {mode!r}")
        if init_noise_sigma is not None and not init_noise_sigma > 0:
            raise ValueError(f"init_noise_sigma must be positive, got {init_noise_sigma!r}")
        if not sigma_lr > 0:
            raise ValueError(f"sigma_lr must be positive, got {sigma_lr!r}")
        self.name = mode
        self.mode, self.init, self.sigma_lr = mode, init_noise_sigma, float(sigma_lr)
        self.lds, self.n_components = bool(lds), int(n_components)
        self.criterion: BalancedMSELoss | None = None
        self.scale, self.offset = 1.0, 0.0

    def setup(self, model: nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        if self.criterion is not None:
            return
        self.scale, self.offset = float(model.y_scale), float(model.y_mean)
        sigma = self.init if self.init is not None else 0.1 * float(np.std(y_train))
        kw = {}
        if self.mode == "bni":
            c, p = bni_buckets(bins.counts(y_train), bins.centers, lds=self.lds)
            kw = {"bucket_centers": c, "bucket_weights": p}
        elif self.mode == "gai":
            kw = {"gmm": fit_label_gmm(y_train, self.n_components, random_state=0)}
        self.criterion = BalancedMSELoss(self.mode, max(sigma, 1e-8), **kw)

    def param_groups(self) -> list[dict]:
        return [{"params": [self.criterion.noise_sigma], "lr": self.sigma_lr}]

    def loss(self, pred: Tensor, target: Tensor, weight: Tensor | None) -> Tensor:
        if weight is not None:
            raise ValueError(f"{self.mode} balances the loss itself: do not combine it with "
                             "inv, sqinv or lds")  # fmt: skip
        s, m = self.scale, self.offset
        return self.criterion(pred * s + m, target * s + m) / s**2

    def state_dict(self) -> dict:
        return {"criterion": self.criterion.state_dict()}  # the learnt noise sigma

    def load_state_dict(self, state: dict) -> None:
        self.criterion.load_state_dict(state["criterion"])

    def info(self) -> dict:
        return (
            {}
            if self.criterion is None
            else {"noise_sigma": float(self.criterion.noise_sigma.detach())}
        )


class _Balanced(NetworkMethod):
    mode = "bmc"

    def make_hooks(self, ctx: RunContext | None) -> list[TrainHook]:
        try:
            return [BalancedMSEHook(self.mode, **self.options)]
        except TypeError as e:
            raise ValueError(f"{self.name}: {e}") from None


class BMC(_Balanced):
    name = mode = "bmc"


class BNI(_Balanced):
    name = mode = "bni"


class GAI(_Balanced):
    name = mode = "gai"
