"""Feature distribution smoothing, FDS (seed 004, sec. 3.2, eq. 3-5).

Per label bin ``b`` the layer tracks the mean ``mu_b`` and the per-dimension variance
``var_b`` of the features (the reference code keeps the diagonal of the covariance ``Sigma_b``
of eq. 3), smooths both across bins with a symmetric kernel (eq. 4), and re-colours the training
features of bin ``b`` before the head (eq. 5, diagonal form):

    z~ = (z - mu_b) * sqrt(clamp(var~_b / var_b, 0.1, 10)) + mu~_b

Statistics are running averages over epochs with momentum 0.9 (sec. 3.2, "momentum update"),
computed once per epoch from a full pass over the training set. Bins are the shared
:class:`latentdiff.binning.Bins`, so float labels work (the reference handles integer ages only).

Reference-code facts this layer follows (PROTOCOL.md): kernel normalised by its *sum* (LDS
normalises by its maximum), reflect padding at the ends of the bin axis, variance ratio clamped
to [0.1, 10], dimensions with zero variance left alone, ``start_update`` / ``start_smooth``
epochs, calibration only in training mode (never at inference).

One reference quirk is optional (``alias_last_epoch``): there the "last epoch" mean and variance
are the same tensors as the running ones, so a batch is re-coloured from the *newest* statistics
to the smoothing of the previous epoch's. By default this layer snapshots both at the epoch
boundary and re-colours from an epoch's statistics to their own smoothing, as eq. 5 reads.

As a method (``fds``), the layer is a training hook: it calibrates the encoder's features of each
label bin before the head during stage-1 training passes and updates the bin statistics after
every epoch from a full pass over the training set. At inference and in head retraining the
features are the encoder's, uncalibrated (as in the reference, where FDS acts only in training
mode). The full pass runs in eval mode (no dropout); the reference collects it in training mode.
"""

from __future__ import annotations

import inspect

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from ..binning import Bins
from ..device import device_of
from ..hooks import TrainHook
from ..training import encode
from .base import NetworkMethod
from .reweighting import lds_kernel

CLAMP = (0.1, 10.0)


def calibrate_mean_var(z: Tensor, m1: Tensor, v1: Tensor, m2: Tensor, v2: Tensor) -> Tensor:
    """Eq. 5 in diagonal form: re-colour ``z`` (n, m) from (m1, v1) to (m2, v2).

    Dimensions with ``v1 == 0`` are left unchanged; if the variances are all about zero the
    features are returned as they are.
    """
    if float(v1.sum()) < 1e-10:
        return z
    ok = v1 != 0
    factor = torch.ones_like(v1)
    factor[ok] = torch.clamp(v2[ok] / v1[ok], *CLAMP)
    out = (z - m1) * torch.sqrt(factor) + m2
    return torch.where(ok, out, z)


class FDS(nn.Module):
    """The FDS layer for ``n_bins`` label bins of ``feature_dim`` features.

    Use: ``z = fds.smooth(z, bin_idx, epoch)`` in training forward passes; at the end of each
    epoch ``fds.update_last_epoch_stats(epoch)`` then ``fds.update_running_stats(Z_all,
    bin_all, epoch)`` with the features of the whole training set.
    """

    def __init__(
        self,
        feature_dim: int,
        n_bins: int,
        start_update: int = 0,
        start_smooth: int = 1,
        kernel: str = "gaussian",
        ks: int = 5,
        sigma: float = 2.0,
        momentum: float = 0.9,
        alias_last_epoch: bool = False,
    ):
        super().__init__()
        self.alias_last_epoch = bool(alias_last_epoch)
        if n_bins < 1 or feature_dim < 1:
            raise ValueError("FDS needs at least one bin and one feature dimension")
        if not 0 <= momentum < 1:
            raise ValueError(f"FDS momentum must be in [0, 1), got {momentum!r}")
        if start_smooth < start_update:
            raise ValueError("start_smooth must not come before start_update")
        if ks // 2 >= n_bins:
            raise ValueError(
                f"FDS kernel size {ks} needs more than {ks // 2} bins for reflect padding, "
                f"got {n_bins}"
            )
        self.feature_dim, self.n_bins = int(feature_dim), int(n_bins)
        self.start_update, self.start_smooth = int(start_update), int(start_smooth)
        self.momentum = float(momentum)
        self.half_ks = int(ks) // 2
        k = lds_kernel(kernel, ks, sigma)
        self.register_buffer("kernel", torch.as_tensor(k / k.sum(), dtype=torch.float32))
        self.register_buffer("epoch", torch.tensor(int(start_update)))
        shape = (self.n_bins, self.feature_dim)
        for name, init in (
            ("running_mean", torch.zeros),
            ("running_var", torch.ones),
            ("running_mean_last_epoch", torch.zeros),
            ("running_var_last_epoch", torch.ones),
            ("smoothed_mean_last_epoch", torch.zeros),
            ("smoothed_var_last_epoch", torch.ones),
        ):
            self.register_buffer(name, init(shape))
        self.register_buffer("num_samples_tracked", torch.zeros(self.n_bins))

    def _smooth_over_bins(self, stats: Tensor) -> Tensor:
        """Eq. 4: convolve each feature dimension's per-bin statistic with the kernel, reflect
        padding; (K, m) -> (K, m)."""
        x = stats.T.unsqueeze(1)  # (m, 1, K)
        x = F.pad(x, (self.half_ks, self.half_ks), mode="reflect")
        return F.conv1d(x, self.kernel.view(1, 1, -1)).squeeze(1).T

    @torch.no_grad()
    def update_last_epoch_stats(self, epoch: int) -> None:
        """Freeze the running statistics gathered so far as the ones the next epoch calibrates
        with, and smooth them (acts once per new epoch after ``start_update``)."""
        if epoch != int(self.epoch) + 1:
            return
        self.epoch += 1
        self.running_mean_last_epoch.copy_(self.running_mean)
        self.running_var_last_epoch.copy_(self.running_var)
        self.smoothed_mean_last_epoch.copy_(self._smooth_over_bins(self.running_mean))
        self.smoothed_var_last_epoch.copy_(self._smooth_over_bins(self.running_var))

    @torch.no_grad()
    def update_running_stats(self, features: Tensor, bins: Tensor, epoch: int) -> None:
        """Momentum update of per-bin mean and variance from one epoch's features (eq. 3).

        The first update (at ``start_update``) replaces the initial values outright.
        """
        if epoch < self.start_update:
            return
        features = torch.as_tensor(features, dtype=torch.float32)
        bins = torch.as_tensor(bins).long().reshape(-1)
        if features.shape != (bins.numel(), self.feature_dim):
            raise ValueError(
                f"FDS expects features of shape (N, {self.feature_dim}) and N bin indices, got "
                f"{tuple(features.shape)} and {bins.numel()}"
            )
        factor = 0.0 if epoch == self.start_update else self.momentum
        for b in torch.unique(bins).tolist():
            if not 0 <= b < self.n_bins:
                raise ValueError(f"bin index {b} outside [0, {self.n_bins})")
            z = features[bins == b]
            mean = z.mean(0)
            var = z.var(0, unbiased=z.shape[0] > 1)
            self.num_samples_tracked[b] += z.shape[0]
            self.running_mean[b] = (1 - factor) * mean + factor * self.running_mean[b]
            self.running_var[b] = (1 - factor) * var + factor * self.running_var[b]

    def smooth(self, features: Tensor, bins: Tensor, epoch: int) -> Tensor:
        """Eq. 5 on a training batch (returns a new tensor; the input is not modified)."""
        if epoch < self.start_smooth:
            return features
        bins = torch.as_tensor(bins).long().reshape(-1)
        out = features.clone()
        if self.alias_last_epoch:  # the reference: "last epoch" statistics are the running ones
            m1, v1 = self.running_mean, self.running_var
        else:
            m1, v1 = self.running_mean_last_epoch, self.running_var_last_epoch
        for b in torch.unique(bins).tolist():
            sel = bins == b
            out[sel] = calibrate_mean_var(
                features[sel],
                m1[b],
                v1[b],
                self.smoothed_mean_last_epoch[b],
                self.smoothed_var_last_epoch[b],
            )
        return out

    def state_summary(self) -> dict:
        """How many samples each bin's statistics have seen (for run records)."""
        return {"num_samples_tracked": np.asarray(self.num_samples_tracked).tolist()}


# --- the hook and the method ---------------------------------------------------------------------


class FDSHook(TrainHook):
    name = "fds"
    kind = "features"

    #: the keyword arguments of :class:`FDS` but its sizes, which come from the network and the
    #: data set's evaluation bins
    OPTIONS = tuple(inspect.signature(FDS).parameters)[2:]

    def __init__(self, **options):
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            raise ValueError(f"fds has no option {unknown[0]!r}; its options are {self.OPTIONS}")
        self.kw = dict(options)
        FDS(1, 2 * int(options.get("ks", 5)), **self.kw)  # check the values now
        self.fds: FDS | None = None
        self.bins: Bins | None = None

    def setup(self, model: nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        self.bins = bins
        dim = int(model.head.in_features)
        self.fds = FDS(dim, bins.n_bins, **self.kw).to(device_of(model))

    def calibrate(self, z: torch.Tensor, y: torch.Tensor, epoch: int) -> torch.Tensor:
        b = torch.as_tensor(self.bins.assign(y.detach().cpu().numpy()), device=z.device)
        return self.fds.smooth(z, b, epoch)

    def end_epoch(self, model: nn.Module, train_inputs: Dataset, y: np.ndarray, epoch: int):
        if epoch < self.fds.start_update:
            return
        dev = self.fds.running_mean.device
        Z = torch.as_tensor(encode(model, train_inputs), device=dev)
        self.fds.update_last_epoch_stats(epoch)
        self.fds.update_running_stats(Z, torch.as_tensor(self.bins.assign(y), device=dev), epoch)

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
    hook = FDSHook
