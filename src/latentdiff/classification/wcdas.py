"""WCDAS, the Wrapped Cauchy Distributed Angular Softmax (Han, 2023, ICML; seed 002's baseline
[7]): a classifier head whose logit for class j is the wrapped Cauchy density of the angle
theta_j between the feature and the class weight, with a trainable concentration per class.

Source. The paper's text could not be read here (only its abstract); the equations below are
those of the author's public code (github.com/boranhan/WCDAS_code, ``models/Loss.py``, class
``WCDAS``; ``main_train.py`` and ``main_finetune.py`` for the two training steps), written anew:

    cos theta_j = <z / ||z||, w_j / ||w_j||>
    rho_j       = sigmoid(g_j)                       (concentration in (0, 1), trainable)
    f_j(z)      = (1 - rho_j^2) / (2 pi (1 + rho_j^2 - 2 rho_j cos theta_j))
                                                     (wrapped Cauchy density at theta_j, mean 0)
    logit_j     = s f_j(z),  s = 1 + softplus(s_raw) (trainable scale >= 1; or a fixed s)

and the loss is the cross-entropy of these logits. The reference initialises g_j = 0 for CIFAR-LT
(rho = 1/2), s_raw = 0, and the weights as ``nn.Linear`` does (no bias). Training, as the
reference's README reproduces its results: (1) encoder and WCDAS head end to end with this loss;
(2) the encoder frozen, the head (w, g, s) trained further on class-balanced ("class-aware")
batches. Here both steps use the project's optimiser (Adam) instead of the reference's SGD
schedule (see :mod:`latentdiff.classification.methods`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def wrapped_cauchy_density(cos_theta: Tensor, rho: Tensor) -> Tensor:
    """(1 - rho^2) / (2 pi (1 + rho^2 - 2 rho cos theta)): the wrapped Cauchy density at angle
    theta from its mean direction, for concentration 0 <= rho < 1 (rho = 0: uniform 1 / 2 pi)."""
    return (1.0 - rho**2) / (2.0 * math.pi * (1.0 + rho**2 - 2.0 * rho * cos_theta))


class WrappedCauchyHead(nn.Module):
    """z (B, m) -> logits (B, C) = s * f_j(z) (module docstring). ``g_init``: the initial
    concentration logit (reference: 0 on CIFAR-LT); ``scale``: None for the trainable
    s = 1 + softplus(s_raw), or a fixed number (the reference's iNaturalist setting: 250)."""

    def __init__(self, feature_dim: int, n_classes: int, g_init: float = 0.0,
                 scale: float | None = None) -> None:  # fmt: skip
        super().__init__()
        if scale is not None and not scale > 0:
            raise ValueError(f"the WCDAS scale must be a positive number or None, got {scale!r}")
        self.weight = nn.Parameter(torch.empty(n_classes, feature_dim))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # as nn.Linear
        self.g = nn.Parameter(torch.full((n_classes,), float(g_init)))
        self.s_raw = nn.Parameter(torch.zeros(1), requires_grad=scale is None)
        self.fixed_scale = scale

    @property
    def rho(self) -> Tensor:
        return torch.sigmoid(self.g)

    @property
    def scale(self) -> Tensor:
        if self.fixed_scale is not None:
            return torch.tensor(float(self.fixed_scale))
        return 1.0 + F.softplus(self.s_raw)

    def forward(self, z: Tensor) -> Tensor:
        cos = F.normalize(z, dim=1) @ F.normalize(self.weight, dim=1).T  # (B, C)
        return self.scale * wrapped_cauchy_density(cos, self.rho)
