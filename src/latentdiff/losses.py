"""Regression losses for imbalanced targets: Focal-R (seed 004) and Balanced MSE (Ren et al. 2022).

All functions take predictions and targets as 1-D tensors of shape (B,) (a trailing singleton
dimension, (B, 1), is accepted and dropped) in whatever units the caller trains in; the noise
scale ``sigma`` of Balanced MSE and the bucket centres / mixture of BNI / GAI must be in those
same units.

Focal-R (Yang et al. 2021, "Delving into Deep Imbalanced Regression", seed 004, sec. 4
baselines): a regression analogue of the focal loss that scales each sample's error by a
monotone function of its absolute error ``|e|``,

    focal factor = (2 sigmoid(beta |e|) - 1)^gamma   or   tanh(beta |e|)^gamma,

applied to either the squared (MSE) or the absolute (L1) error. As in the reference code the
per-sample weights (e.g. from :mod:`latentdiff.weighting`) multiply the focal loss and the
result is a plain mean over the batch (not divided by the sum of the weights).

Balanced MSE (Ren et al. 2022, "Balanced MSE for Imbalanced Visual Regression", sec. 3):
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
(``log sqrt(2 pi)``) are dropped; they cancel between the two terms.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .weighting import lds_kernel

FocalActivation = Literal["sigmoid", "tanh"]
BalancedMode = Literal["bmc", "bni", "gai"]


def _as_1d(x: Tensor, name: str) -> Tensor:
    """``x`` as (B,), accepting (B,) or (B, 1)."""
    if x.dim() == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 1:
        raise ValueError(f"{name} must have shape (B,) or (B, 1), got {tuple(x.shape)}")
    return x


def _pair(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    pred, target = _as_1d(pred, "pred"), _as_1d(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    if pred.numel() == 0:
        raise ValueError("empty batch")
    return pred, target.to(pred.dtype)


# ------------------------------------------------------------------------------------------------
# Focal-R
# ------------------------------------------------------------------------------------------------
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


def _focal(
    per_sample: Tensor,
    abs_err: Tensor,
    weights: Tensor | None,
    beta: float,
    gamma: float,
    activation: FocalActivation,
) -> Tensor:
    loss = per_sample * focal_factor(abs_err, beta, gamma, activation)
    if weights is not None:
        w = _as_1d(torch.as_tensor(weights, device=loss.device), "weights").to(loss.dtype)
        if w.shape != loss.shape:
            raise ValueError(f"weights {tuple(w.shape)} do not match the batch {tuple(loss.shape)}")
        loss = loss * w
    return loss.mean()  # plain mean over the batch, as the reference code reduces


def focal_mse_loss(
    pred: Tensor,
    target: Tensor,
    weights: Tensor | None = None,
    *,
    beta: float = 0.2,
    gamma: float = 1.0,
    activation: FocalActivation = "sigmoid",
) -> Tensor:
    """Focal-R on the squared error: ``mean_i w_i e_i^2 f(|e_i|)`` with ``e = pred - target``.

    Parameters
    ----------
    pred, target : Tensor of shape (B,)
    weights : Tensor of shape (B,), optional
        Per-sample weights (e.g. INV / SQINV / LDS); ones when omitted.
    beta, gamma : float
        Focal scale and exponent (seed 004 uses beta = 20, gamma = 1 with MSE on STS-B).
    activation : {"sigmoid", "tanh"}

    Returns
    -------
    Tensor
        Scalar loss.
    """
    pred, target = _pair(pred, target)
    err = pred - target
    return _focal(err**2, err.abs(), weights, beta, gamma, activation)


def focal_l1_loss(
    pred: Tensor,
    target: Tensor,
    weights: Tensor | None = None,
    *,
    beta: float = 0.2,
    gamma: float = 1.0,
    activation: FocalActivation = "sigmoid",
) -> Tensor:
    """Focal-R on the absolute error: ``mean_i w_i |e_i| f(|e_i|)``.

    Same parameters as :func:`focal_mse_loss` (seed 004 uses beta = 0.2, gamma = 1 with L1 on
    ages).
    """
    pred, target = _pair(pred, target)
    abs_err = (pred - target).abs()
    return _focal(abs_err, abs_err, weights, beta, gamma, activation)


# ------------------------------------------------------------------------------------------------
# Balanced MSE
# ------------------------------------------------------------------------------------------------
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
    pred, target = _pair(pred, target)
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
    pred, target = _pair(pred, target)
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
    pred, target = _pair(pred, target)
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
    padding; seed 004 eq. 2, :func:`latentdiff.weighting.lds_kernel`). Buckets whose (smoothed)
    count is zero are dropped and the rest normalised to sum to one, as the authors' code does.

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
