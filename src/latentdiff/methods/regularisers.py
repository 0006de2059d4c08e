"""Methods that add a feature regulariser to stage 1: RankSim (Gong et al. 2022) and ConR
(Keramati et al. 2024). Both act on the encoder's features z of a batch and so only in stage 1.

* ``ranksim``: ``gamma * RankSim(z, y)`` with ``gamma = 100`` and interpolation
  ``lambda = 2`` (the reference's defaults).
* ``conr``: ``beta * ConR(z, z', y, y_hat)`` where z is the batch as it is and z' a random view
  of it (:func:`latentdiff.views.augment`: Gaussian input noise for real-valued inputs, unknown-
  word replacement for token ids). The similarity window ``w`` is one evaluation bin width
  (1 year for ages as in ConR's runs, 0.1 for STS-B-DIR); temperature 0.2; ``e = 0.01``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from ..binning import Bins
from ..hooks import Step, TrainHook
from ..regularisers import conr_loss, ranksim_loss
from ..views import augment
from .base import NetworkMethod, RunContext


class RankSimHook(TrainHook):
    name = "ranksim"

    def __init__(self, gamma: float = 100.0, interpolation_lambda: float = 2.0):
        if gamma < 0 or not interpolation_lambda > 0:
            raise ValueError("ranksim needs gamma >= 0 and interpolation_lambda > 0")
        self.gamma, self.lam = float(gamma), float(interpolation_lambda)

    def penalty(self, step: Step) -> Tensor:
        return self.gamma * ranksim_loss(step.features, step.y, self.lam)


class ConRHook(TrainHook):
    name = "conr"

    def __init__(self, beta: float = 1.0, w: float | None = None, temperature: float = 0.2,
                 e: float = 0.01, noise: float = 0.1, token_drop: float = 0.1):  # fmt: skip
        if beta < 0 or not temperature > 0 or (w is not None and w < 0):
            raise ValueError("conr needs beta >= 0, temperature > 0 and w >= 0")
        self.beta, self.w, self.temperature, self.e = float(beta), w, float(temperature), e
        self.noise, self.token_drop = float(noise), float(token_drop)
        self.scale = 1.0

    def setup(self, model: nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        self.scale = float(model.y_scale)
        if self.w is None:
            self.w = bins.width

    def penalty(self, step: Step) -> Tensor:
        view = augment(step.inputs, noise=self.noise, token_drop=self.token_drop)
        z2 = step.model.features(*view)
        pred2 = step.model.head(z2).squeeze(-1)
        preds = torch.cat([step.pred, pred2]).detach() * self.scale  # label units
        loss = conr_loss(step.features, z2, step.y, preds, w=self.w,
                         temperature=self.temperature, e=self.e)  # fmt: skip
        return self.beta * loss


class _Reg(NetworkMethod):
    hook: type[TrainHook]

    def make_hooks(self, ctx: RunContext | None) -> list[TrainHook]:
        try:
            return [self.hook(**self.options)]
        except TypeError as e:
            raise ValueError(f"{self.name}: {e}") from None


class RankSim(_Reg):
    name = "ranksim"
    hook = RankSimHook


class ConR(_Reg):
    name = "conr"
    hook = ConRHook
