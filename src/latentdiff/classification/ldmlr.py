"""LDMLR's stages 2-3 on features (seed 002, sec. 3.3-3.4): how many features to generate per
class for a target (all / many / medium / few, Table 4) at a ratio (Figure 2), and the
classifier head's fine-tuning loss eq. 13.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .longtail import REGIONS

#: seed 002 Table 4's targets, and ``tail``: the rarest region the data set has (few; medium
#: where no class is few; many where every class is many)
TARGETS: tuple[str, ...] = ("all", *REGIONS, "tail")
#: seed 002, sec. 4.1: gamma of eq. 13 and the fine-tuning learning rate
GAMMA = 0.05
FINE_TUNE_LR = 5e-4


def resolve_target(region_of_class, target: str) -> str:
    """The region ``target`` names on this data set: ``tail`` becomes the rarest region any
    class is in (few, else medium, else many); other targets are returned as they are."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if target != "tail":
        return target
    present = set(np.asarray(region_of_class, dtype=object).tolist())
    return next(r for r in reversed(REGIONS) if r in present)


def generation_counts(
    train_counts, region_of_class, target: str = "all", ratio: float = 0.2
) -> np.ndarray:
    """Generated features per class: ``round(ratio * N)`` in all (N = training rows; seed 002's
    "augmentation ratio", the proportion of generated to encoded features, Figure 2), spread
    evenly over the classes of ``target`` (p(y) of eq. 12 uniform on them; ``tail``: the
    rarest region present, :func:`resolve_target`), the remainder one each to the targeted
    classes with the fewest training rows. Other classes get 0."""
    counts = np.asarray(train_counts, dtype=np.int64)
    regions = np.asarray(region_of_class, dtype=object)
    target = resolve_target(regions, target)
    if not np.isfinite(ratio) or ratio < 0:
        raise ValueError(f"ratio must be a finite number >= 0, got {ratio!r}")
    chosen = np.ones(counts.size, bool) if target == "all" else regions == target
    if not chosen.any():
        raise ValueError(f"no class is in region {target!r}: nothing to generate for")
    total = int(round(ratio * counts.sum()))
    k = int(chosen.sum())
    out = np.zeros(counts.size, np.int64)
    out[chosen] = total // k
    rarest = np.flatnonzero(chosen)[np.argsort(counts[chosen], kind="stable")]
    out[rarest[: total % k]] += 1
    return out


def generation_labels(per_class: np.ndarray) -> np.ndarray:
    """The class index of each generated feature, class by class (int64)."""
    return np.repeat(np.arange(len(per_class)), per_class).astype(np.int64)


def fine_tune_loss(
    logits_real: Tensor,
    y_real: Tensor,
    logits_gen: Tensor,
    y_gen: Tensor,
    gamma: float = GAMMA,
    weight: Tensor | None = None,
) -> Tensor:
    """L_FT = -E[log G(z)_y] - gamma E[log G(z_hat)_y] (eq. 13, seed 002): the mean cross-entropy
    of the encoded features plus gamma times that of the generated ones. An empty generated batch
    contributes 0. ``weight`` (per class, or None) weighs the first term as the base method's own
    loss does (``cb+ldmlr``: the class-balanced weights; PyTorch's weighted mean)."""
    loss = F.cross_entropy(logits_real, y_real, weight=weight)  # eq. 13, first term
    if len(y_gen):
        loss = loss + gamma * F.cross_entropy(logits_gen, y_gen)  # eq. 13, second term
    return loss


def fine_tune_head(
    head: torch.nn.Module,
    Z: np.ndarray,
    y: np.ndarray,
    Z_gen: np.ndarray,
    y_gen: np.ndarray,
    *,
    gamma: float = GAMMA,
    lr: float = FINE_TUNE_LR,
    epochs: int = 20,
    batch_size: int = 128,
    weight=None,
    random_state: int = 0,
) -> list[float]:
    """Stage 3 (seed 002, sec. 3.4): Adam at ``lr`` on eq. 13 over ``epochs`` passes of the
    encoded rows in batches of ``batch_size``; each step pairs a real batch with a generated
    batch of the same size drawn at random (with replacement) from the generated rows, so both
    expectations of eq. 13 are estimated every step. ``weight``: per-class weights of the first
    term (:func:`fine_tune_loss`). Returns the mean loss per epoch."""
    gen = torch.Generator().manual_seed(random_state)
    z = torch.as_tensor(Z, dtype=torch.float32)
    yy = torch.as_tensor(y, dtype=torch.long)
    zg = torch.as_tensor(Z_gen, dtype=torch.float32).reshape(-1, z.shape[1])
    yg = torch.as_tensor(y_gen, dtype=torch.long)
    w = None if weight is None else torch.as_tensor(weight, dtype=torch.float32)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    head.train()
    history = []
    for _ in range(epochs):
        order = torch.randperm(len(z), generator=gen)
        total = 0.0
        for start in range(0, len(z), batch_size):
            idx = order[start : start + batch_size]
            g_idx = torch.randint(len(zg), (len(idx),), generator=gen) if len(zg) else idx[:0]
            loss = fine_tune_loss(head(z[idx]), yy[idx], head(zg[g_idx]), yg[g_idx], gamma, w)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(z))
    head.eval()
    return history
