"""ConR (Keramati, Meng and Evans 2024, "ConR: Contrastive Regularizer for Deep Imbalanced
Regression", ICLR): an InfoNCE-style loss over two augmented views of the batch. For an anchor
``j``, positives are the other samples with a similar label (``|y_i - y_j| <= w``); negatives
are samples with a dissimilar label (``|y_q - y_j| > w``) whose *prediction* is nonetheless
similar (``|y_hat_q - y_hat_j| <= w``). Only samples with at least one negative are anchors.

    L_j = -1/|P_j| sum_{i in P_j} log( exp(z_j.z_i / tau)
              / ( sum_{p in P_j} exp(z_j.z_p / tau) + sum_{q in N_j} S_jq exp(z_j.z_q / tau) ) )
    L_ConR = 1/(2B) sum_j L_j,

with L2-normalised features ``z`` and the pushing weight ``S_jq = w_j exp(e |y_j - y_q|)``
(growing with the label distance; ``w_j`` an optional per-sample density weight, the
``f_S(eta_j, sim(y_j, y_q))`` of the paper in the form the authors' age-estimation code uses).

As a method (``conr``) it adds ``beta * L_ConR(z, z', y, y_hat)`` to stage 1, where z is the
batch as it is and z' a random view of it (:func:`augment`): ConR's image recipes use crops and
flips; for the inputs of this project a view is

* for real-valued inputs (standardised tabular rows, frozen sentence embeddings): Gaussian noise
  of ``noise`` times each column's standard deviation in the batch;
* for token ids (the BiLSTM's padded sentences): each real token replaced by the unknown-word id
  with probability ``token_drop`` (padding stays padding).

The similarity window ``w`` is one evaluation bin width (1 year for ages as in ConR's runs, 0.1
for STS-B-DIR); temperature 0.2; ``e = 0.01``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..binning import Bins
from ..hooks import Step, TrainHook
from .base import NetworkMethod

PAD, UNK = 0, 1  # the ids of latentdiff.encoders.text


def augment(
    inputs: tuple[Tensor, ...],
    generator: torch.Generator | None = None,
    noise: float = 0.1,
    token_drop: float = 0.1,
) -> tuple[Tensor, ...]:
    """One random view of each input tensor of a batch (new tensors; the inputs are unchanged)."""
    out = []
    for x in inputs:
        if x.is_floating_point():
            std = x.std(0, keepdim=True) if x.shape[0] > 1 else torch.ones_like(x[:1])
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
            out.append(x + noise * std * eps)
        elif x.dtype in (torch.int64, torch.int32):
            drop = torch.rand(x.shape, generator=generator).to(x.device) < token_drop
            out.append(torch.where(drop & (x != PAD), torch.full_like(x, UNK), x))
        else:
            raise ValueError(f"cannot make a view of inputs of dtype {x.dtype}")
    return tuple(out)


def _two_view(x: Tensor | None, b: int, name: str) -> Tensor | None:
    """(B,) or (2B,) (optionally with a trailing 1) -> (2B,) aligned with cat(view1, view2)."""
    if x is None:
        return None
    x = torch.as_tensor(x).reshape(-1)
    if x.shape[0] == b:
        return torch.cat([x, x])
    if x.shape[0] == 2 * b:
        return x
    raise ValueError(f"{name} must have B={b} or 2B={2 * b} entries, got {x.shape[0]}")


def conr_loss(
    features_view1: Tensor,
    features_view2: Tensor,
    labels: Tensor,
    preds: Tensor,
    w: float = 1.0,
    temperature: float = 0.2,
    e: float = 0.01,
    weights: Tensor | None = None,
    *,
    reference_compat: bool = False,
) -> Tensor:
    """ConR contrastive regulariser (Keramati et al. 2024, eq. 1-2), without its weight beta.

    Parameters
    ----------
    features_view1, features_view2 : Tensor of shape (B, ...)
        Encoder features of two augmentations of the same B samples (flattened to (B, D)).
    labels : Tensor of shape (B,)
        Targets of the B samples (shared by both views).
    preds : Tensor of shape (B,) or (2B,)
        Predictions, per sample or per view (``cat(pred_view1, pred_view2)``). Only used to pick
        negatives, so they are detached.
    w : float
        Similarity window in label units: positives ``|dy| <= w``, negatives ``|dy| > w`` and
        ``|d y_hat| <= w`` (1 year for ages in the authors' runs).
    temperature : float
        tau (0.2 for AgeDB-DIR; the authors' IMDB-WIKI script uses 0.07).
    e : float
        Pushing-power scale of ``S_jq = w_j exp(e |y_j - y_q|)``.
    weights : Tensor of shape (B,) or (2B,), optional
        Per-sample density weights ``w_j`` (e.g. LDS); ones when omitted.
    reference_compat : bool
        Reproduce the authors' released ``ConR`` function instead of the paper's formula: its
        denominator also counts ``exp(0) = 1`` for every non-positive pair (self, negatives and
        neutral pairs), and it multiplies each anchor's loss by ``w_j`` once more before the
        mean. Kept for checks against their code; leave False for the paper's definition.

    Returns
    -------
    Tensor
        Scalar loss, mean over the 2B view-samples (non-anchors contribute 0).

    Notes
    -----
    An anchor without positives (impossible with two views and ``w >= 0``, since its other view
    has the same label) contributes 0.
    """
    b = features_view1.shape[0]
    if features_view2.shape[0] != b:
        raise ValueError("the two views must hold the same number of samples")
    if w < 0 or not temperature > 0:
        raise ValueError("need w >= 0 and temperature > 0")
    z = torch.cat([features_view1.reshape(b, -1), features_view2.reshape(b, -1)])  # (2B, D)
    z = F.normalize(z, dim=1)
    y = _two_view(labels, b, "labels").to(z.device, z.dtype).detach()  # (2B,)
    yh = _two_view(preds, b, "preds").to(z.device, z.dtype).detach()  # (2B,)
    wt = _two_view(weights, b, "weights")
    wt = torch.ones_like(y) if wt is None else wt.to(z.device, z.dtype).detach()

    n = 2 * b
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    l_dist = (y[:, None] - y[None, :]).abs()  # (2B, 2B)
    p_dist = (yh[:, None] - yh[None, :]).abs()
    pos = (l_dist <= w) & ~eye  # P_j
    neg = (l_dist > w) & (p_dist <= w)  # N_j: dissimilar labels, similar predictions
    anchor = neg.any(dim=1)  # samples with at least one negative

    logits = z @ z.T / temperature  # (2B, 2B) z_j . z_i / tau
    log_push = torch.log(wt)[:, None] + e * l_dist  # log S_jq = log w_j + e |y_j - y_q|
    neg_inf = torch.finfo(z.dtype).min
    den_terms = torch.where(pos, logits, neg_inf)
    den_terms = torch.where(neg, logits + log_push, den_terms)
    if reference_compat:
        # the released code sums exp(logits * pos_mask): each non-positive entry adds exp(0) = 1
        extra = (n - pos.sum(dim=1)).to(z.dtype).log()[:, None]
        den_terms = torch.cat([den_terms, extra], dim=1)
    log_den = torch.logsumexp(den_terms, dim=1)  # (2B,)

    n_pos = pos.sum(dim=1)
    log_prob = torch.where(pos, logits - log_den[:, None], torch.zeros_like(logits))
    l_j = -log_prob.sum(dim=1) / n_pos.clamp(min=1)  # eq. 1, per anchor
    l_j = torch.where(anchor & (n_pos > 0), l_j, torch.zeros_like(l_j))
    if reference_compat:
        l_j = l_j * wt
    return l_j.mean()  # eq. 2: 1/(2B) sum_j


# --- the hook and the method ---------------------------------------------------------------------


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


class ConR(NetworkMethod):
    name = "conr"
    hook = ConRHook
