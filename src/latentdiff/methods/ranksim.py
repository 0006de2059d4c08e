"""RankSim (Gong, Mori and Tung 2022, "RankSim: Ranking Similarity Regularization for Deep
Imbalanced Regression", ICML): within a batch, the ranking of every sample's neighbours by
feature (cosine) similarity should match their ranking by label similarity,

    L_RankSim = sum_i l( rk(S^y[i, :]), rk(S^z[i, :]) ),   l = mean squared error,

with ``S^z_ij = cos(z_i, z_j)`` and ``S^y_ij = -|y_i - y_j|``. The piecewise-constant rank
operator ``rk`` is differentiated with blackbox combinatorial-solver backpropagation (Vlastelica
et al. 2020, "Differentiation of Blackbox Combinatorial Solvers"; ranking form of Rolinek et al.
2020): for the incoming gradient ``g`` the backward pass re-ranks the perturbed input
``s' = s + lambda g`` and returns ``-(rk(s) - rk(s')) / lambda``.

As a method (``ranksim``) it adds ``gamma * L_RankSim(z, y)`` to stage 1 with ``lambda = 2`` and
the weight ``gamma`` the reference code uses on the data set (:func:`default_gamma`): 100 on the
age benchmarks (AgeDB-DIR, IMDB-WIKI-DIR), 3e-4 on STS-B-DIR (its README's
``--regularization_weight=3e-4``); ``ranksim.gamma=...`` overrides. A gamma far above the data
set's scale saturates the blackbox gradient (the perturbed ranking no longer depends on gamma, so
the feature gradient stops shrinking with it) and can collapse the features: measured in
docs/benchmarks-reading.md. Two details of the reference are options:

* ``ties``: equal values get ranks by position, ``"first"`` (default: the earlier column ranks
  first) or ``"last"`` (the later one first, as the reference's STS-B-DIR code ranks with its
  stable numpy sort; its age code uses torch's unstable sort, which breaks ties arbitrarily);
* ``duplicates``: the one sample kept per repeated label, ``"first"`` (default: the first
  occurrence, a pure function of the batch) or ``"random"`` (uniformly at random from the
  training RNG, as the reference's ``random.choice`` picks it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..hooks import Step, TrainHook
from .base import NetworkMethod, RunContext

TIES = ("first", "last")

#: RankSim's weight gamma in the reference code (BorealisAI/ranksim-imbalanced-regression, the
#: READMEs' commands): ``--regularization_weight=100.0`` on AgeDB-DIR and IMDB-WIKI-DIR, ``3e-4``
#: on STS-B-DIR
REFERENCE_GAMMA: dict[str, float] = {"agedb-dir": 100.0, "imdb-wiki-dir": 100.0, "stsb-dir": 3e-4}
#: gamma on a data set the reference never ran (tables): this project's choice, see
#: docs/benchmarks-reading.md
OTHER_GAMMA = 100.0


def default_gamma(dataset: str | None) -> float:
    """RankSim's gamma for ``dataset`` (a registry name): the reference code's on its three
    benchmarks, :data:`OTHER_GAMMA` elsewhere."""
    return REFERENCE_GAMMA.get(dataset or "", OTHER_GAMMA)


def rank_normalised(seq: Tensor, ties: str = "first") -> Tensor:
    """Row-wise normalised ranks, largest value first: ``(position in descending order + 1) / M``.

    ``seq`` is (N, M); the largest entry of a row gets ``1 / M``, the smallest ``1``. Ties are
    broken by column index, deterministically: the earlier column first (``ties="first"``) or
    the later one (``"last"``, the reference's STS-B-DIR ``stable_argsort`` rule).
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    if ties == "last":
        return rank_normalised(seq.flip(-1)).flip(-1)
    m = seq.shape[-1]
    order = torch.argsort(seq, dim=-1, descending=True, stable=True)  # (N, M)
    ranks = torch.empty_like(order)
    ar = torch.arange(m, device=seq.device).expand_as(order)
    ranks.scatter_(-1, order, ar)  # inverse permutation: rank of each column
    return (ranks + 1).to(seq.dtype if seq.is_floating_point() else torch.float32) / m


class _BlackboxRank(torch.autograd.Function):
    """``rank_normalised`` with the blackbox-backprop gradient (Vlastelica et al. 2020, eq. 5)."""

    @staticmethod
    def forward(ctx, seq: Tensor, lam: float, ties: str = "first") -> Tensor:
        r = rank_normalised(seq, ties)
        ctx.lam, ctx.ties = lam, ties
        ctx.save_for_backward(seq, r)
        return r

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        seq, r = ctx.saved_tensors
        r_prime = rank_normalised(seq + ctx.lam * grad_out, ctx.ties)  # perturbed input
        return -(r - r_prime) / ctx.lam, None, None


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
    ties: str = "first",
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
    ties : {"first", "last"}
        How :func:`rank_normalised` orders equal similarities.

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
    sub-batch, as ``ties`` says.
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
    rk_y = rank_normalised(s_y, ties)
    rk_z = _BlackboxRank.apply(s_z, float(interpolation_lambda), ties)
    return ((rk_z - rk_y) ** 2).mean(dim=1).sum()


# --- the hook and the method ---------------------------------------------------------------------


class RankSimHook(TrainHook):
    name = "ranksim"

    def __init__(self, gamma: float = 100.0, interpolation_lambda: float = 2.0,
                 ties: str = "first", duplicates: str = "first"):  # fmt: skip
        if gamma < 0 or not interpolation_lambda > 0:
            raise ValueError("ranksim needs gamma >= 0 and interpolation_lambda > 0")
        if ties not in TIES or duplicates not in ("first", "random"):
            raise ValueError(
                f"ranksim needs ties in {TIES} and duplicates in ('first', 'random'), got "
                f"{ties!r} and {duplicates!r}"
            )
        self.gamma, self.lam = float(gamma), float(interpolation_lambda)
        self.ties, self.duplicates = ties, duplicates

    def penalty(self, step: Step) -> Tensor:
        # "random": the training's own seeded torch RNG picks which duplicate label stays
        gen = torch.default_generator if self.duplicates == "random" else None
        loss = ranksim_loss(step.features, step.y, self.lam, generator=gen, ties=self.ties)
        return self.gamma * loss


class RankSim(NetworkMethod):
    name = "ranksim"
    hook = RankSimHook

    def hook_options(self, ctx: RunContext | None) -> dict:
        kw = dict(self.options)
        if "gamma" not in kw and ctx is not None:
            kw["gamma"] = default_gamma(ctx.dataset.name)
        return kw
