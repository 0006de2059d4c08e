"""Early stopping of a generator's training on a held-out loss: which rows are held out, and when
the held-out losses say to stop.

The paper trains its feature diffusion model for a fixed 1,000 epochs on a GPU (seed 000, app.
D.4); on a CPU that length, not the kernels, is what makes LatentDiff cost many times its
network. Here training stops once the loss of eq. 7 on held-out features (with fixed noise and
steps, so that successive evaluations differ by the weights only) has not improved for
``patience`` evaluations; ``n_steps`` is then the cap (docs/design.md, "Training length").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: fewer held-out rows than this: the held-out loss is too noisy to stop on, training runs to
#: the cap (and says so in ``early_stopping_``)
MIN_HELDOUT = 32
#: held-out rows beyond this add evaluation time and no information
MAX_HELDOUT = 1024
#: label groups for continuous conditions (more distinct values than half the rows)
CONTINUOUS_GROUPS = 20


@dataclass(frozen=True)
class EarlyStopping:
    """What a generator stops on: the share of each condition group held out, the steps
    between evaluations, and the evaluations without improvement before it stops."""

    fraction: float
    every: int
    patience: int
    min_delta: float = 0.0


def heldout_split(c: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows) of conditions ``c``, both sorted index arrays.

    Each group of equal conditions (the sampler conditions on bin labels; continuous conditions
    are grouped into :data:`CONTINUOUS_GROUPS` quantile groups) gives ``floor(fraction * n)`` of
    its n rows, drawn at random: a group of fewer than ``1 / fraction`` rows, a rare bin, keeps
    all of its rows for training. At most :data:`MAX_HELDOUT` rows are held out.
    """
    c = np.asarray(c, dtype=np.float64).reshape(-1)
    rng = np.random.default_rng(seed)
    _, groups = np.unique(c, return_inverse=True)
    if groups.max(initial=-1) + 1 > c.size / 2:  # continuous conditions: quantile groups
        ranks = np.argsort(np.argsort(c, kind="stable"), kind="stable")
        groups = ranks * CONTINUOUS_GROUPS // max(c.size, 1)
    held = []
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        k = int(np.floor(fraction * rows.size))
        if k:
            held.append(rng.choice(rows, size=k, replace=False))
    held = np.concatenate(held) if held else np.empty(0, dtype=np.int64)
    if held.size > MAX_HELDOUT:
        held = rng.choice(held, size=MAX_HELDOUT, replace=False)
    mask = np.zeros(c.size, dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def stopped_at(losses, patience: int, min_delta: float = 0.0) -> int | None:
    """The index of the evaluation at which training stops: the first k with ``patience``
    evaluations since the last improvement, a loss below ``(1 - min_delta)`` times the best
    before it; None while it goes on. NaN losses never count as improvements."""
    best, best_k = np.inf, -1
    for k, loss in enumerate(np.asarray(losses, dtype=np.float64).reshape(-1)):
        if loss < best * (1.0 - min_delta):
            best, best_k = loss, k
        if k - best_k >= patience:
            return k
    return None
