"""Feature-space regularisers for imbalanced regression: RankSim and ConR.

Both return a scalar *unweighted* term; the caller adds ``gamma * ranksim_loss(...)``
(gamma = 100 in Gong et al. 2022) or ``beta * conr_loss(...)`` to its regression loss.

RankSim (Gong, Mori and Tung 2022, "RankSim: Ranking Similarity Regularization for Deep
Imbalanced Regression", ICML): within a batch, the ranking of every sample's neighbours by
feature (cosine) similarity should match their ranking by label similarity,

    L_RankSim = sum_i l( rk(S^y[i, :]), rk(S^z[i, :]) ),   l = mean squared error,

with ``S^z_ij = cos(z_i, z_j)`` and ``S^y_ij = -|y_i - y_j|``. The piecewise-constant rank
operator ``rk`` is differentiated with blackbox combinatorial-solver backpropagation (Vlastelica
et al. 2020, "Differentiation of Blackbox Combinatorial Solvers"; ranking form of Rolinek et al.
2020): for the incoming gradient ``g`` the backward pass re-ranks the perturbed input
``s' = s + lambda g`` and returns ``-(rk(s) - rk(s')) / lambda``.

ConR (Keramati, Meng and Evans 2024, "ConR: Contrastive Regularizer for Deep Imbalanced
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
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


# ------------------------------------------------------------------------------------------------
# RankSim
# ------------------------------------------------------------------------------------------------
def rank_normalised(seq: Tensor) -> Tensor:
    """Row-wise normalised ranks, largest value first: ``(position in descending order + 1) / M``.

    ``seq`` is (N, M); the largest entry of a row gets ``1 / M``, the smallest ``1``. Ties are
    broken by column index (stable sort), so the result is deterministic.
    """
    m = seq.shape[-1]
    order = torch.argsort(seq, dim=-1, descending=True, stable=True)  # (N, M)
    ranks = torch.empty_like(order)
    ar = torch.arange(m, device=seq.device).expand_as(order)
    ranks.scatter_(-1, order, ar)  # inverse permutation: rank of each column
    return (ranks + 1).to(seq.dtype if seq.is_floating_point() else torch.float32) / m


class _BlackboxRank(torch.autograd.Function):
    """``rank_normalised`` with the blackbox-backprop gradient (Vlastelica et al. 2020, eq. 5)."""

    @staticmethod
    def forward(ctx, seq: Tensor, lam: float) -> Tensor:
        r = rank_normalised(seq)
        ctx.lam = lam
        ctx.save_for_backward(seq, r)
        return r

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        seq, r = ctx.saved_tensors
        r_prime = rank_normalised(seq + ctx.lam * grad_out)  # solver at the perturbed input
        return -(r - r_prime) / ctx.lam, None


def unique_label_subset(labels: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Indices of a sub-batch holding each distinct label value exactly once.

    Without ``generator`` the *first* occurrence (lowest index) of every label is kept, so the
    choice is a pure function of the batch. With a ``torch.Generator`` the batch is first
    permuted with ``torch.randperm(B, generator=generator)`` and the first occurrence in that
    order is kept, i.e. one occurrence of each label uniformly at random, reproducible given the
    generator's state. Labels are compared for exact equality (bin them first if they are
    continuous). Indices are returned in increasing label order.
    """
    labels = labels.reshape(-1)
    b = labels.shape[0]
    if generator is None:
        order = torch.arange(b, device=labels.device)
    else:
        order = torch.randperm(b, generator=generator, device=generator.device).to(labels.device)
    uniq, inv = torch.unique(labels[order], return_inverse=True)
    pos = torch.full((uniq.shape[0],), b, dtype=torch.long, device=labels.device)
    pos = pos.scatter_reduce(0, inv, torch.arange(b, device=labels.device), reduce="amin")
    return order[pos]


def ranksim_loss(
    features: Tensor,
    labels: Tensor,
    interpolation_lambda: float = 2.0,
    *,
    generator: torch.Generator | None = None,
    indices: Tensor | None = None,
) -> Tensor:
    """RankSim regulariser (Gong et al. 2022, eq. 2), without its weight gamma.

    Parameters
    ----------
    features : Tensor of shape (B, ...)
        Encoder features (flattened to (B, D)); the gradient flows into them.
    labels : Tensor of shape (B,) or (B, 1)
        Targets (no gradient).
    interpolation_lambda : float
        Blackbox-backprop interpolation strength lambda (> 0; 2 in Gong et al. for ages).
    generator : torch.Generator, optional
        Randomises which occurrence of a repeated label is kept (see
        :func:`unique_label_subset`); without it the first occurrence is kept.
    indices : Tensor, optional
        An explicit sub-batch to use instead (e.g. precomputed with
        :func:`unique_label_subset`).

    Returns
    -------
    Tensor
        Scalar ``sum_i MSE(rk(S^z[i]), rk(S^y[i]))`` over the sub-batch (sum over anchors, mean
        over each row, as Gong et al. define it); 0 for a sub-batch of one.

    Notes
    -----
    The loss is restricted to one sample per distinct label so that ties in ``S^y`` are reduced
    and infrequent labels are not outnumbered (Gong et al. 2022, sec. 3). Remaining label-rank
    ties (equal ``|y_i - y_j|`` on both sides of ``y_i``) are broken by position in the
    sub-batch.
    """
    if not interpolation_lambda > 0:
        raise ValueError(f"interpolation_lambda must be positive, got {interpolation_lambda!r}")
    labels = labels.reshape(-1)
    if features.shape[0] != labels.shape[0]:
        raise ValueError(f"features {tuple(features.shape)} and labels {tuple(labels.shape)}")
    idx = unique_label_subset(labels, generator) if indices is None else indices
    x = features[idx].reshape(len(idx), -1)  # (n, D)
    y = labels[idx].detach().to(x.dtype)  # (n,)
    xn = F.normalize(x, dim=1)
    s_z = xn @ xn.T  # (n, n) cosine similarities S^z
    s_y = -(y[:, None] - y[None, :]).abs()  # (n, n) label similarities S^y
    rk_y = rank_normalised(s_y)
    rk_z = _BlackboxRank.apply(s_z, float(interpolation_lambda))
    return ((rk_z - rk_y) ** 2).mean(dim=1).sum()


# ------------------------------------------------------------------------------------------------
# ConR
# ------------------------------------------------------------------------------------------------
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
