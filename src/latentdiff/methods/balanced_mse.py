"""Balanced MSE (Ren et al. 2022, "Balanced MSE for Imbalanced Visual Regression", sec. 3):
``L = -log N(y; y_hat, sigma^2) + log integral N(y'; y_hat, sigma^2) p_train(y') dy'``, the
second (balancing) term estimated

* BMC, batch-based Monte-Carlo: over the targets of the batch, which turns the loss into a
  cross-entropy over the batch with logits ``-(y_hat_i - y_j)^2 / (2 sigma^2)``;
* BNI, bin-based numerical integration: over bucket centres ``c_b`` with bucket weights
  ``p_b`` (optionally LDS-smoothed);
* GAI, Gaussian-mixture analytical integration: ``p_train`` is a Gaussian mixture
  ``sum_k phi_k N(mu_k, s_k^2)``, so the integral is
  ``sum_k phi_k N(y_hat; mu_k, s_k^2 + sigma^2)``.

Following the authors' code, every Balanced MSE estimate is multiplied by ``2 sigma^2`` with the
factor *detached*, so the gradient w.r.t. the prediction is on the scale of an MSE gradient while
the gradient w.r.t. ``sigma`` still comes from the un-scaled loss. Additive constants
(``log sqrt(2 pi)``) are dropped; they cancel between the two terms. Predictions and targets are
(B,) tensors in the units of ``sigma``, the bucket centres and the mixture.

As methods (``bmc``, ``bni``, ``gai``) the loss replaces stage 1's; it balances itself, so it
refuses per-sample weights, and it does not act in head retraining. ``sigma`` is in label units;
it starts at a tenth of the training label std (the order of the authors' code default, 1 year on
ages whose std is 10-16 years; AgeDB-DIR's training std is 15.8) and is learnt with its own Adam
step size of 1e-3 label stds per step (the authors' 1e-2 years per step on those ages). The step
used to be 1e-2 *label units*: on California Housing (label std 1.15) sigma then reached the
residual scale within the first epoch, before the network fitted, and the best validation epoch
was the first; on labels of std 1e-3 every step moved sigma by several stds (issue 13, measured
in docs/benchmarks-reading.md). The hook maps standardised predictions back to label units and
divides the loss by ``y_scale^2``. BNI's buckets: a grid spanning the training labels
(:func:`bni_grid`); GAI's mixture has 8 components fitted on the training labels.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..binning import Bins
from ..device import device_of
from ..hooks import TrainHook
from ..validation import check_batch
from .base import NetworkMethod, RunContext
from .reweighting import lds_kernel

BalancedMode = Literal["bmc", "bni", "gai"]
BUCKET_CENTERS = ("grid", "midpoint", "left-edge")


def _noise_var(noise_var, like: Tensor) -> Tensor:
    """``sigma^2`` as a tensor of ``like``'s dtype and device (keeps the autograd graph)."""
    return torch.as_tensor(noise_var, device=like.device).to(like.dtype)


def bmc_loss(pred: Tensor, target: Tensor, noise_var: Tensor | float) -> Tensor:
    """Balanced MSE, batch-based Monte-Carlo (BMC; Ren et al. 2022, sec. 3).

    ``L = (2 sigma^2)_detached * mean_i CE_i`` with ``CE_i = -log softmax_j(l_ij)[i]`` and
    logits ``l_ij = -(pred_i - target_j)^2 / (2 sigma^2)``: the batch's own targets are the
    Monte-Carlo samples of ``p_train``.

    Parameters
    ----------
    pred, target : Tensor of shape (B,)
    noise_var : Tensor or float
        ``sigma^2`` (a differentiable scalar when sigma is learnt).
    """
    pred, target = check_batch(pred, target)
    var = _noise_var(noise_var, pred)
    logits = -0.5 * (pred[:, None] - target[None, :]) ** 2 / var  # (B, B), row i: prediction i
    ce = F.cross_entropy(logits, torch.arange(pred.shape[0], device=pred.device))
    return ce * (2.0 * var).detach()


def bni_loss(
    pred: Tensor,
    target: Tensor,
    noise_var: Tensor | float,
    bucket_centers: Tensor,
    bucket_weights: Tensor,
) -> Tensor:
    """Balanced MSE, bin-based numerical integration (BNI; Ren et al. 2022, sec. 3).

    ``L_i = (pred_i - target_i)^2 / (2 sigma^2)
    + log sum_b p_b exp(-(pred_i - c_b)^2 / (2 sigma^2))``, times ``(2 sigma^2)_detached``,
    averaged over the batch.

    Parameters
    ----------
    pred, target : Tensor of shape (B,)
    noise_var : Tensor or float
    bucket_centers : Tensor of shape (K,)
        Bucket centres ``c_b`` in the units of ``target``.
    bucket_weights : Tensor of shape (K,)
        Bucket probabilities ``p_b`` (positive; see :func:`bni_buckets`).
    """
    pred, target = check_batch(pred, target)
    var = _noise_var(noise_var, pred)
    c = torch.as_tensor(bucket_centers, device=pred.device).to(pred.dtype).reshape(1, -1)
    p = torch.as_tensor(bucket_weights, device=pred.device).to(pred.dtype).reshape(1, -1)
    mse_term = (pred - target) ** 2 / (2.0 * var)  # -log N(y; y_hat, sigma^2) + const
    balancing = torch.logsumexp(-((pred[:, None] - c) ** 2) / (2.0 * var) + p.log(), dim=1)
    return ((mse_term + balancing) * (2.0 * var).detach()).mean()


def gai_loss(
    pred: Tensor,
    target: Tensor,
    noise_var: Tensor | float,
    gmm_weights: Tensor,
    gmm_means: Tensor,
    gmm_variances: Tensor,
) -> Tensor:
    """Balanced MSE, Gaussian-mixture analytical integration (GAI; Ren et al. 2022, sec. 3).

    With ``p_train = sum_k phi_k N(mu_k, s_k^2)``:
    ``L_i = (pred_i - target_i)^2 / (2 sigma^2) + 1/2 log sigma^2
    + log sum_k phi_k N(pred_i; mu_k, s_k^2 + sigma^2)`` (without the ``log sqrt(2 pi)``
    constants), times ``(2 sigma^2)_detached``, averaged over the batch.

    Parameters
    ----------
    pred, target : Tensor of shape (B,)
    noise_var : Tensor or float
    gmm_weights, gmm_means, gmm_variances : Tensor of shape (K,)
        Mixture weights ``phi_k``, means ``mu_k`` and variances ``s_k^2`` of the training-label
        density, in target units (see :func:`fit_label_gmm`).
    """
    pred, target = check_batch(pred, target)
    var = _noise_var(noise_var, pred)

    def row(x):
        return torch.as_tensor(x, device=pred.device).to(pred.dtype).reshape(1, -1)

    phi, mu, s2 = row(gmm_weights), row(gmm_means), row(gmm_variances)
    mse_term = (pred - target) ** 2 / (2.0 * var) + 0.5 * var.log()  # -log N(y; y_hat, sigma^2)
    total = s2 + var  # (1, K): variance of N(mu_k, s_k^2) convolved with N(0, sigma^2)
    log_comp = phi.log() - 0.5 * total.log() - (pred[:, None] - mu) ** 2 / (2.0 * total)
    balancing = torch.logsumexp(log_comp, dim=1)
    return ((mse_term + balancing) * (2.0 * var).detach()).mean()


def fit_label_gmm(
    labels, n_components: int = 8, random_state: int | None = 0
) -> dict[str, np.ndarray]:
    """Fit the GAI mixture ``p_train`` on training labels with scikit-learn's GaussianMixture.

    As in Ren et al. (2022, GAI) a K = 8 component, full-covariance (here 1-D) mixture.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Training targets, in the units the loss will see.
    n_components : int
    random_state : int or None

    Returns
    -------
    dict
        ``{"weights", "means", "variances"}``, each a float64 array of shape (n_components,),
        ready for :func:`gai_loss` / :class:`BalancedMSELoss`.
    """
    from sklearn.mixture import GaussianMixture

    y = np.asarray(labels, dtype=np.float64).reshape(-1, 1)
    if not np.all(np.isfinite(y)):
        raise ValueError("labels must be finite")
    gmm = GaussianMixture(n_components=n_components, random_state=random_state).fit(y)
    return {
        "weights": np.asarray(gmm.weights_, dtype=np.float64).reshape(-1),
        "means": np.asarray(gmm.means_, dtype=np.float64).reshape(-1),
        "variances": np.asarray(gmm.covariances_, dtype=np.float64).reshape(-1),
    }


def bni_buckets(
    counts,
    centers,
    lds: bool = False,
    kernel: str = "gaussian",
    ks: int = 5,
    sigma: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """BNI bucket centres and probabilities from per-bucket label counts.

    With ``lds`` the raw counts are smoothed with the LDS kernel (max-normalised window, zero
    padding; seed 004 eq. 2, :func:`latentdiff.methods.reweighting.lds_kernel`). Buckets whose
    (smoothed) count is zero are dropped and the rest normalised to sum to one, as the authors'
    code does (jiawei-ren/BalancedMSE, ``get_bucket_info``: integer ages as centres, raw counts
    unless ``--lds``).

    Parameters
    ----------
    counts : array-like of shape (K,)
        Training labels per bucket (e.g. ``Bins.counts(y_train)``).
    centers : array-like of shape (K,)
        Bucket centres in target units (e.g. ``Bins.centers``).

    Returns
    -------
    centers, weights : ndarray of shape (K',)
    """
    from scipy.ndimage import convolve1d

    n = np.asarray(counts, dtype=np.float64).reshape(-1)
    c = np.asarray(centers, dtype=np.float64).reshape(-1)
    if n.shape != c.shape:
        raise ValueError(f"counts {n.shape} and centers {c.shape} differ")
    if lds:
        n = convolve1d(n, lds_kernel(kernel, ks, sigma), mode="constant", cval=0.0)
    keep = n > 0
    if not keep.any():
        raise ValueError("all bucket counts are zero")
    return c[keep], n[keep] / n[keep].sum()


def bni_grid(labels, spacing: float, max_buckets: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """BNI buckets on an equally spaced grid from the smallest to the largest training label, each
    label's unit mass shared between its two neighbouring grid points in proportion to closeness
    (linear binning), the weights normalised to sum to one.

    Every training label then lies between the outermost centres. BNI needs that: the gradient of
    its loss w.r.t. a prediction is ``2 (E_w[c] - y)`` with ``E_w[c]`` a weighted mean of the
    centres (see :func:`bni_loss`), so a target below the lowest or above the highest centre is
    pushed away without end. The authors' buckets (one per integer age) have that property on
    ages; the evaluation bins' midpoints do not (on a skewed table most labels can lie below the
    first midpoint). Grid points that receive no mass are dropped.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Training targets.
    spacing : float
        Grid spacing in label units (> 0); the grid has at most ``max_buckets`` points (the
        spacing is widened if needed).

    Returns
    -------
    centers, weights : ndarray of shape (K',)
    """
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    if y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError("labels must be finite and non-empty")
    if not spacing > 0:
        raise ValueError(f"spacing must be positive, got {spacing!r}")
    lo, hi = float(y.min()), float(y.max())
    if hi == lo:
        return np.array([lo]), np.array([1.0])
    k = int(min(max_buckets, np.ceil((hi - lo) / spacing))) + 1
    centers = np.linspace(lo, hi, k)
    pos = (y - lo) / (centers[1] - centers[0])
    left = np.clip(np.floor(pos).astype(np.int64), 0, k - 2)
    frac = pos - left
    mass = np.bincount(left, 1.0 - frac, minlength=k) + np.bincount(left + 1, frac, minlength=k)
    keep = mass > 0
    return centers[keep], mass[keep] / mass[keep].sum()


class BalancedMSELoss(nn.Module):
    """Balanced MSE (BMC / BNI / GAI) with a learnable noise scale ``sigma``.

    ``forward(pred, target)`` returns the scalar loss of :func:`bmc_loss`, :func:`bni_loss` or
    :func:`gai_loss` with ``noise_var = noise_sigma ** 2``.

    The noise scale is an ``nn.Parameter`` of this module, **not** of the model: put it in its
    own optimiser parameter group with its own learning rate, as Ren et al. (2022) do, e.g.::

        crit = BalancedMSELoss("bmc", init_noise_sigma=1.0)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        opt.add_param_group({"params": [crit.noise_sigma], "lr": 1e-2})  # sigma_lr

    (or ``learn_sigma=False`` for a fixed sigma). ``sigma`` is in target units.

    Parameters
    ----------
    mode : {"bmc", "bni", "gai"}
    init_noise_sigma : float
        Initial ``sigma`` (the authors' default is 1.0 on raw ages).
    bucket_centers, bucket_weights : array-like of shape (K,), required for "bni"
    gmm : dict with "weights", "means", "variances" (each (K,)), required for "gai"
        (e.g. the output of :func:`fit_label_gmm`).
    learn_sigma : bool
        Whether ``noise_sigma`` requires grad.
    """

    def __init__(
        self,
        mode: BalancedMode = "bmc",
        init_noise_sigma: float = 1.0,
        *,
        bucket_centers=None,
        bucket_weights=None,
        gmm: dict | None = None,
        learn_sigma: bool = True,
    ):
        super().__init__()
        if mode not in ("bmc", "bni", "gai"):
            raise ValueError(f"mode must be 'bmc', 'bni' or 'gai', got {mode!r}")
        if not init_noise_sigma > 0:
            raise ValueError(f"init_noise_sigma must be positive, got {init_noise_sigma!r}")
        self.mode = mode
        self.noise_sigma = nn.Parameter(
            torch.tensor(float(init_noise_sigma)), requires_grad=learn_sigma
        )

        def buf(name, x):
            self.register_buffer(name, torch.as_tensor(np.asarray(x, dtype=np.float64)))

        if mode == "bni":
            if bucket_centers is None or bucket_weights is None:
                raise ValueError("mode 'bni' needs bucket_centers and bucket_weights")
            buf("bucket_centers", bucket_centers)
            buf("bucket_weights", bucket_weights)
        elif mode == "gai":
            if gmm is None:
                raise ValueError("mode 'gai' needs gmm={'weights', 'means', 'variances'}")
            for key in ("weights", "means", "variances"):
                buf(f"gmm_{key}", np.asarray(gmm[key]).reshape(-1))

    @property
    def noise_var(self) -> Tensor:
        """``sigma^2``."""
        return self.noise_sigma**2

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        var = self.noise_var.to(pred.dtype)
        if self.mode == "bmc":
            return bmc_loss(pred, target, var)
        if self.mode == "bni":
            return bni_loss(pred, target, var, self.bucket_centers, self.bucket_weights)
        return gai_loss(pred, target, var, self.gmm_weights, self.gmm_means, self.gmm_variances)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, noise_sigma={float(self.noise_sigma):.4g}"


# --- the hook and the methods --------------------------------------------------------------------


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


class BalancedMSEHook(TrainHook):
    """Balanced MSE in stage 1. It already balances the loss, so it refuses per-sample weights
    (``kind = "loss"`` and checked against a weighting in :meth:`loss`), and it does not act in
    head retraining."""

    kind = "loss"
    takes_weights = False

    def __init__(self, mode: str, init_noise_sigma: float | None = None,
                 sigma_lr: float | None = None, lds: bool = True, n_components: int = 8,
                 bucket_centers: str = "grid", init_sigma_std: float = 0.1,
                 sigma_lr_std: float = 1e-3, learn_sigma: bool = True,
                 bucket_spacing_std: float = 0.05):  # fmt: skip
        """``bucket_centers`` and ``lds`` shape BNI's buckets. ``"grid"`` (default,
        :func:`bni_grid`): a grid from the smallest to the largest training label, spaced
        ``bucket_spacing_std`` label stds, linear-binned counts; ``"midpoint"`` or
        ``"left-edge"`` (:func:`bni_buckets`): the evaluation bins' counts at their midpoints or
        left edges. ``lds`` smooths the counts with the LDS kernel (over grid points or bins).
        ``lds=False, bucket_centers="left-edge"`` are the authors' buckets on the age benchmarks
        (integer ages, raw counts, as their README runs BNI).

        The noise scale ``sigma`` is in label units. It starts at ``init_noise_sigma`` or, when
        that is None, at ``init_sigma_std`` times the training label std; it is learnt
        (``learn_sigma``) with Adam at ``sigma_lr`` or, when that is None, at ``sigma_lr_std``
        times the training label std: a step size in label std units, the same on every data set
        whatever its units (the authors' 1e-2 is in years on ages, below 1e-3 label stds)."""
        if mode not in ("bmc", "bni", "gai"):
            raise ValueError(f"Balanced MSE mode must be bmc, bni or gai, got {mode!r}")
        if bucket_centers not in BUCKET_CENTERS:
            raise ValueError(
                f"bucket_centers must be one of {BUCKET_CENTERS}, got {bucket_centers!r}"
            )
        if not _positive(bucket_spacing_std):
            raise ValueError(f"bucket_spacing_std must be positive, got {bucket_spacing_std!r}")
        self.bucket_spacing_std = float(bucket_spacing_std)
        self.bucket_centers = bucket_centers
        for name, value in (("init_noise_sigma", init_noise_sigma), ("sigma_lr", sigma_lr)):
            if value is not None and not _positive(value):
                raise ValueError(f"{name} must be positive or null, got {value!r}")
        for name, value in (("init_sigma_std", init_sigma_std), ("sigma_lr_std", sigma_lr_std)):
            if not _positive(value):
                raise ValueError(f"{name} must be positive, got {value!r}")
        if not isinstance(learn_sigma, bool):
            raise ValueError(f"learn_sigma must be true or false, got {learn_sigma!r}")
        self.name = mode
        self.mode, self.init = mode, init_noise_sigma
        self.sigma_lr = None if sigma_lr is None else float(sigma_lr)
        self.init_sigma_std, self.sigma_lr_std = float(init_sigma_std), float(sigma_lr_std)
        self.learn_sigma = learn_sigma
        self.lds, self.n_components = bool(lds), int(n_components)
        self.criterion: BalancedMSELoss | None = None
        self.scale, self.offset = 1.0, 0.0
        self.lr = self.sigma_lr  # the step size in label units, set by setup

    def setup(self, model: nn.Module, y_train: np.ndarray, bins: Bins) -> None:
        if self.criterion is not None:
            return
        self.scale, self.offset = float(model.y_scale), float(model.y_mean)
        std = self.label_std = float(np.std(y_train))
        sigma = self.init if self.init is not None else self.init_sigma_std * std
        self.sigma0 = max(sigma, 1e-8)
        self.lr = self.sigma_lr if self.sigma_lr is not None else self.sigma_lr_std * std
        kw = {}
        if self.mode == "bni":
            if self.bucket_centers == "grid":
                at, n = bni_grid(y_train, self.bucket_spacing_std * max(std, 1e-12))
            else:
                n = bins.counts(y_train)
                at = bins.centers if self.bucket_centers == "midpoint" else bins.edges[:-1]
            c, p = bni_buckets(n, at, lds=self.lds)
            kw = {"bucket_centers": c, "bucket_weights": p}
        elif self.mode == "gai":
            kw = {"gmm": fit_label_gmm(y_train, self.n_components, random_state=0)}
        self.criterion = BalancedMSELoss(
            self.mode, self.sigma0, learn_sigma=self.learn_sigma, **kw
        ).to(device_of(model))

    def param_groups(self) -> list[dict]:
        if not self.learn_sigma:
            return []
        return [{"params": [self.criterion.noise_sigma], "lr": max(self.lr, 1e-12)}]

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
        if self.criterion is None:
            return {}
        return {
            "noise_sigma": float(self.criterion.noise_sigma.detach()),
            "noise_sigma_init": self.sigma0,
            "sigma_lr": self.lr if self.learn_sigma else 0.0,
            "label_std": self.label_std,
        }


class _Balanced(NetworkMethod):
    hook = BalancedMSEHook
    mode = "bmc"

    def hook_options(self, ctx: RunContext | None) -> dict:
        return {"mode": self.mode, **self.options}


class BMC(_Balanced):
    name = mode = "bmc"


class BNI(_Balanced):
    name = mode = "bni"


class GAI(_Balanced):
    name = mode = "gai"
