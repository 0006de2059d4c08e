"""FDS as a training hook (seed 004, sec. 3.2): calibrate the encoder's features of each label
bin before the head during training passes, update the bin statistics after every epoch from a
full pass over the training set. Stage 1 only: at inference and in head retraining the features
are the encoder's, uncalibrated (as in the reference, where FDS acts only in training mode).

The full pass runs in eval mode (no dropout); the reference collects it in training mode.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ..binning import Bins
from ..fds import FDS
from ..hooks import TrainHook
from ..training import encode
from .base import NetworkMethod, RunContext


class FDSHook(TrainHook):
    name = "fds"
    kind = "features"

    def __init__(self, **options):
        """``options``: the keyword arguments of :class:`latentdiff.fds.FDS` except the sizes
        (start_update, start_smooth, kernel, ks, sigma, momentum, alias_last_epoch)."""
        self.kw = dict(options)
        FDS(1, 2 * int(self.kw.get("ks", 5)), **self.kw)  # check the options now
        self.fds: FDS | None = None
        self.bins: Bins | None = None

    def setup(self, model: nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        self.bins = bins
        dim = int(model.head.in_features)
        self.fds = FDS(dim, bins.n_bins, **self.kw)

    def calibrate(self, z: torch.Tensor, y: torch.Tensor, epoch: int) -> torch.Tensor:
        b = torch.as_tensor(self.bins.assign(y.numpy()))
        return self.fds.smooth(z, b, epoch)

    def end_epoch(self, model: nn.Module, train_inputs: Dataset, y: np.ndarray, epoch: int):
        if epoch < self.fds.start_update:
            return
        Z = torch.as_tensor(encode(model, train_inputs))
        self.fds.update_last_epoch_stats(epoch)
        self.fds.update_running_stats(Z, torch.as_tensor(self.bins.assign(y)), epoch)

    def state_dict(self) -> dict:
        return {"fds": self.fds.state_dict()}  # running and last-epoch statistics, epoch

    def load_state_dict(self, state: dict) -> None:
        self.fds.load_state_dict(state["fds"])

    def info(self) -> dict:
        if self.fds is None:
            return {}
        return {"bins_tracked": int((self.fds.num_samples_tracked > 0).sum())}


class FDSMethod(NetworkMethod):
    """FDS with the reference defaults: gaussian kernel ks = 5, sigma = 2, momentum 0.9,
    statistics from epoch 0, calibration from epoch 1."""

    name = "fds"

    def make_hooks(self, ctx: RunContext | None) -> list[TrainHook]:
        try:
            return [FDSHook(**self.options)]
        except TypeError as e:
            raise ValueError(f"fds: {e}") from None
