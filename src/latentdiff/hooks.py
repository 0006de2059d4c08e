"""Where a DIR method acts inside training: the :class:`TrainHook` contract.

Stage 1 (:func:`latentdiff.training.fit_model`) and stage 7 (:func:`latentdiff.training.fit_head`)
run one training loop; a method changes it only through these hooks:

============================  ===============================================  ==============
hook                          acts on                                          methods
============================  ===============================================  ==============
``transform_train``           the training set, before training                SMOTER, SMOGN
``sample_weights``            per-sample loss weights                          INV, SQINV, LDS
``loss``                      the loss of a batch                              Focal-R, BMC/BNI/GAI
``calibrate``                 features before the head, training passes only   FDS
``penalty``                   a term added to the loss                         RankSim, ConR
``end_epoch``                 after each epoch (e.g. feature statistics)       FDS
============================  ===============================================  ==============

A hook with ``head_stage = True`` also acts when only the head is retrained (stage 7 of
LatentDiff, RRT): weights and losses do, feature calibration and feature regularisers do not
(the encoder is frozen there, so they have nothing to act on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from .binning import Bins


@dataclass
class Step:
    """One training batch as a penalty sees it: standardised predictions, features, labels in
    label units (``y``) and standardised (``target``), the batch inputs and the model."""

    model: torch.nn.Module
    inputs: tuple[Tensor, ...]
    features: Tensor
    pred: Tensor
    target: Tensor
    y: Tensor
    epoch: int


class TrainHook:
    """A DIR method's intervention in training; every hook does nothing by default."""

    name: ClassVar[str] = "hook"
    head_stage: ClassVar[bool] = False
    #: hooks of the same kind exclude each other (two loss functions, two weightings)
    kind: ClassVar[str] = "other"
    #: False for a loss that balances itself and cannot take per-sample weights
    takes_weights: ClassVar[bool] = True

    def transform_train(
        self, inputs: Dataset, y: np.ndarray, seed: int
    ) -> tuple[Dataset, np.ndarray]:
        return inputs, y

    def setup(self, model: torch.nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        """Called once before training with the (possibly transformed) training labels."""

    def param_groups(self) -> list[dict]:
        """Extra optimiser parameter groups (e.g. Balanced MSE's noise sigma, its own lr)."""
        return []

    def sample_weights(self, y: np.ndarray) -> np.ndarray | None:
        return None

    def loss(self, pred: Tensor, target: Tensor, weight: Tensor | None) -> Tensor | None:
        """Loss of a batch from standardised predictions and targets; None: the plain loss."""
        return None

    def calibrate(self, z: Tensor, y: Tensor, epoch: int) -> Tensor:
        return z

    def penalty(self, step: Step) -> Tensor | None:
        return None

    def end_epoch(self, model: torch.nn.Module, train_inputs: Dataset, y: np.ndarray, epoch: int):
        pass

    def info(self) -> dict:
        """Diagnostics for the run record."""
        return {}

    def state_dict(self) -> dict:
        """State that changes during training (tensors, numbers), for epoch checkpoints; what
        ``setup`` rebuilds from the data need not be here."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` (after ``setup``)."""


def check_hooks(hooks) -> list[TrainHook]:
    """At most one hook of each exclusive kind ("weights", "loss", "data")."""
    hooks = list(hooks or ())
    seen: dict[str, str] = {}
    for h in hooks:
        if not isinstance(h, TrainHook):
            raise TypeError(f"expected TrainHook instances, got {type(h).__name__}")
        if h.kind != "other":
            if h.kind in seen:
                raise ValueError(
                    f"{seen[h.kind]} and {h.name} both set the {h.kind}; combine at most one "
                    f"method of this kind"
                )
            seen[h.kind] = h.name
    for h in hooks:
        if not h.takes_weights and "weights" in seen:
            raise ValueError(
                f"{h.name} balances the loss itself: do not combine it with {seen['weights']}"
            )
    return hooks
