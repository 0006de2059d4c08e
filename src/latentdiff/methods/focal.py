"""Focal-R (Yang et al. 2021, "Delving into Deep Imbalanced Regression", seed 004, sec. 4
baselines): a regression analogue of the focal loss that scales each sample's error by a
monotone function of its absolute error ``|e|``,

    focal factor = (2 sigmoid(beta |e|) - 1)^gamma   or   tanh(beta |e|)^gamma,

applied to either the squared (MSE) or the absolute (L1) error. As in the reference code the
per-sample weights (e.g. from :mod:`latentdiff.methods.reweighting`) multiply the focal loss and
the result is a plain mean over the batch (not divided by the sum of the weights).

As a method (``focal-r``) it replaces the loss of stage 1 and of head retraining. The network
predicts standardised labels while ``beta`` multiplies an error in label units, so the hook maps
predictions back to label units and divides the loss by ``y_scale^2`` (``y_scale`` for L1): the
optimisation scale of the plain standardised loss. Defaults where the references set them per
data set: the data set's stage-1 loss (L1 for ages, MSE otherwise) with the reference's ``beta``
(0.2 with L1 for ages, 20 with MSE for STS-B-DIR; MSE data sets other than STS-B take STS-B's
20), ``gamma = 1``, sigmoid.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from ..binning import Bins
from ..hooks import TrainHook
from ..validation import check_batch
from .base import NetworkMethod, RunContext

FocalActivation = Literal["sigmoid", "tanh"]


def focal_factor(
    abs_err: Tensor, beta: float = 0.2, gamma: float = 1.0, activation: FocalActivation = "sigmoid"
) -> Tensor:
    """The Focal-R scaling ``(2 sigmoid(beta |e|) - 1)^gamma`` or ``tanh(beta |e|)^gamma``.

    Both lie in [0, 1) and increase with ``|e|``; ``gamma = 0`` gives ones (plain loss).
    """
    if activation == "sigmoid":
        f = 2.0 * torch.sigmoid(beta * abs_err) - 1.0  # seed 004, Focal-R
    elif activation == "tanh":
        f = torch.tanh(beta * abs_err)  # seed 004, Focal-R (tanh variant)
    else:
        raise ValueError(f"activation must be 'sigmoid' or 'tanh', got {activation!r}")
    return f**gamma


def focal_loss(
    pred: Tensor,
    target: Tensor,
    weights: Tensor | None = None,
    *,
    kind: str = "mse",
    beta: float = 0.2,
    gamma: float = 1.0,
    activation: FocalActivation = "sigmoid",
) -> Tensor:
    """Focal-R: ``mean_i w_i l_i f(|e_i|)`` with ``e = pred - target`` and ``l`` the squared
    (``kind="mse"``) or absolute (``"l1"``) error.

    Parameters
    ----------
    pred, target : Tensor of shape (B,)
    weights : Tensor of shape (B,), optional
        Per-sample weights (e.g. INV / SQINV / LDS); ones when omitted.
    kind : {"mse", "l1"}
    beta, gamma : float
        Focal scale and exponent (seed 004: beta = 20, gamma = 1 with MSE on STS-B; beta = 0.2,
        gamma = 1 with L1 on ages).
    activation : {"sigmoid", "tanh"}

    Returns
    -------
    Tensor
        Scalar loss: a plain mean over the batch, as the reference code reduces.
    """
    pred, target = check_batch(pred, target)
    abs_err = (pred - target).abs()
    if kind not in ("mse", "l1"):
        raise ValueError(f"focal-r kind must be 'mse' or 'l1', got {kind!r}")
    loss = (abs_err**2 if kind == "mse" else abs_err) * focal_factor(
        abs_err, beta, gamma, activation
    )
    if weights is not None:
        w = torch.as_tensor(weights, device=loss.device).reshape(-1).to(loss.dtype)
        if w.shape != loss.shape:
            raise ValueError(f"weights {tuple(w.shape)} do not match the batch {tuple(loss.shape)}")
        loss = loss * w
    return loss.mean()


def focal_mse_loss(pred: Tensor, target: Tensor, weights: Tensor | None = None, **kw) -> Tensor:
    """:func:`focal_loss` on the squared error."""
    return focal_loss(pred, target, weights, kind="mse", **kw)


def focal_l1_loss(pred: Tensor, target: Tensor, weights: Tensor | None = None, **kw) -> Tensor:
    """:func:`focal_loss` on the absolute error."""
    return focal_loss(pred, target, weights, kind="l1", **kw)


# --- the hook and the method ---------------------------------------------------------------------


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
        out = focal_loss(pred * s, target * s, weight, kind=self.base, beta=self.beta,
                         gamma=self.gamma, activation=self.activation)  # fmt: skip
        return out / (s**2 if self.base == "mse" else s)


class FocalR(NetworkMethod):
    name = "focal-r"
    hook = FocalHook

    def hook_options(self, ctx: RunContext | None) -> dict:
        kw = dict(self.options)
        if ctx is not None:
            kw.setdefault("kind", ctx.train.loss)
        return kw
