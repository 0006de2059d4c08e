"""PoGDiff (seed 003) in feature space: LatentDiff's label-conditioned feature diffusion model
trained towards a product of Gaussians, borrowing from a neighbour's condition.

For a training row (z, y) with neighbour condition y' the loss is, in v-prediction form,

    ||v(z_t, y) - v_target||^2 + psi ||v(z_t, y) - v(z_t, y')||^2          (eq. 13, seed 003)

with the adaptations of issue 12 (docs/methods.md, "PoGDiff"):

* neighbours: the ``k`` training rows with the highest cosine similarity of their (standardised)
  features, found once per fit; y' is the condition of one of them drawn with probability
  proportional to the similarity (eq. 8), from the fit's seeded generator at every step;
* "identity" (eq. 9) is the generation bin, i.e. the condition value (LatentDiff conditions on
  one value per bin);
* the density of eq. 10-11 is the label density of the row's bin, the bin counts smoothed by the
  project's LDS kernel (:func:`latentdiff.methods.reweighting.effective_counts`), in place of the
  paper's VAE ELBO, which it needs only because its conditions are text embeddings;
* v in place of epsilon: eq. 13's derivation (Prop. 3.1) bounds a KL between Gaussians on
  x_{t-1}, whose mean is linear in either parametrisation, so the same form holds for v up to
  the per-step weight that eq. 5 drops for epsilon too.

Only the loss differs from :class:`FeatureDiffusion`: the network, schedule, sampler, EMA, early
stopping (on the held-out eq. 7 loss, the data term), checkpoints and transfer are its.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..binning import GenerationBins
from ..settings import PoGDiffConfig, SamplerConfig
from .base import TrainingParts, optimiser_step
from .diffusion import FeatureDiffusion, diffuse, velocity
from .stopping import MIN_HELDOUT, heldout_split

#: the LDS kernel of the density (the DIR reference's defaults, as ``lds`` uses them)
DENSITY_KERNEL = {"kernel": "gaussian", "ks": 5, "sigma": 2.0}


def check_neighbour_count(k: int, n: int) -> None:
    """Refuse k neighbours among ``n`` training rows when k > n - 1 (eq. 8 draws from the k
    nearest other rows)."""
    if k > n - 1:
        raise ValueError(
            f"pogdiff: k_neighbours = {k} is more than the {n - 1} other training rows the "
            f"generator has ({n} rows after the held-out split); set k_neighbours <= {n - 1}"
        )


def generator_rows(y, sampler: SamplerConfig, config: PoGDiffConfig) -> int:
    """The rows the pogdiff generator trains on when a sampler with settings ``sampler`` is fitted
    on training labels ``y``: all of them less the early-stopping held-out rows, counted as the
    fit splits them (the rows' generation-bin conditions, :func:`heldout_split`; the count does
    not depend on the split's seed). Known from the labels alone, before any network trains."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    n = y.size
    if not config.early_stopping:
        return n
    grid = GenerationBins.fit(y, sampler.n_bins)
    c = grid.labels[grid.bins.assign(y)]
    _, held = heldout_split(c, config.heldout_fraction, 0)
    return n if held.size < MIN_HELDOUT else n - held.size


def check_neighbours_before_training(y, sampler: SamplerConfig | None) -> None:
    """Refuse an oversized ``k_neighbours`` from the training labels ``y``, before stage 1: the
    same refusal the generator's fit would give after the network trained. A CoDSA split of
    ``latentdiff-tuned`` (``splits``) trains a generator on fewer rows, which only its fit checks.
    Nothing to check without pogdiff settings (no chosen method fits the pogdiff generator)."""
    if sampler is None or sampler.pogdiff is None:
        return
    config = sampler.pogdiff
    check_neighbour_count(config.k_neighbours, generator_rows(y, sampler, config))


def cosine_neighbours(z: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The ``k`` rows of ``z`` (N, m) most cosine-similar to each row, itself excluded:
    (indices (N, k), similarities (N, k)), most similar first (eq. 8's [s_j], sorted).

    Refuses k > N - 1 (there are only N - 1 other rows)."""
    n = len(z)
    check_neighbour_count(k, n)
    u = torch.nn.functional.normalize(z.double(), dim=1)  # a zero row has similarity 0 to all
    idx = torch.empty((n, k), dtype=torch.int64)
    sim = torch.empty((n, k), dtype=torch.float64)
    chunk = max(1, 2**22 // max(n, 1))  # at most ~32 MB of similarities at a time
    for start in range(0, n, chunk):
        s = u[start : start + chunk] @ u.T  # (b, N)
        rows = torch.arange(start, min(start + chunk, n))
        s[rows - start, rows] = -torch.inf  # not its own neighbour
        top = torch.topk(s, k, dim=1)  # ties: torch's order, deterministic on the CPU
        idx[rows], sim[rows] = top.indices.cpu(), top.values.cpu()
    return idx, sim


def neighbour_probabilities(sim: Tensor) -> Tensor:
    """w_j = s_j / sum_j s_j (eq. 8) per row of ``sim`` (N, k).

    Eq. 8 presumes s_j >= 0; a negative similarity gets probability 0 here. A row whose k
    similarities are all <= 0 draws uniformly: its psi is 0 whichever neighbour is drawn
    (eq. 9's max(0, .)), so the draw does not change its loss."""
    s = sim.clamp(min=0)
    total = s.sum(dim=1, keepdim=True)
    uniform = torch.full_like(s, 1.0 / s.shape[1])
    return torch.where(total > 0, s / total.clamp(min=1e-300), uniform)


def similarity_factor(s: Tensor, different: Tensor, a1: float, a2: float) -> Tensor:
    """psi_img-sim = max(0, s^(a1 + a2 1[different])) (eq. 9).

    For s <= 0 the power is taken as 0: the max(0, .) of eq. 9 clips a negative similarity,
    and s^e of a negative s is not real for a non-integer exponent."""
    e = a1 + a2 * different.to(s.dtype)
    return torch.where(s > 0, s.clamp(min=1e-300) ** e, torch.zeros_like(s))


def bin_density(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The density of each row's bin and the LDS-smoothed count per distinct condition.

    ``c`` (N,) are the rows' conditions, one value per generation bin. The distinct values are
    placed on the bin grid (position round((c - c_min) / the smallest gap between values); for
    LatentDiff's bin centres that is the bin index, empty bins included), the per-position counts
    smoothed by the LDS kernel (:data:`DENSITY_KERNEL`; counts as they are, no square root or
    clip), and scaled so that 1 / density has mean one over the rows: the inverse-density factor
    of psi (eq. 11) then averages 1 / a3. Returns (density per row (N,), smoothed count per
    distinct condition, in increasing order)."""
    from ..methods.reweighting import effective_counts  # here: methods imports the generators

    values, inverse, counts = np.unique(c, return_inverse=True, return_counts=True)
    if len(values) == 1:
        return np.ones(len(c)), counts.astype(np.float64)
    gap = float(np.min(np.diff(values)))
    pos = np.rint((values - values[0]) / gap).astype(np.int64)
    grid = np.zeros(int(pos[-1]) + 1)
    grid[pos] = counts
    smoothed = effective_counts(grid, scheme="inv", lds=True, clip=None, **DENSITY_KERNEL)[pos]
    per_row = smoothed[inverse]
    return per_row * np.mean(1.0 / per_row), smoothed


def psi(s: Tensor, different: Tensor, density: Tensor, config: PoGDiffConfig) -> Tensor:
    """psi = psi_img-sim * psi_inv-txt-den = max(0, s^(a1 + a2 1[different])) / (a3 density)
    (eq. 12); a factor switched off (``similarity_term`` / ``density_term`` False) is 1."""
    out = torch.ones_like(s)
    if config.similarity_term:
        out = out * similarity_factor(s, different, config.a1, config.a2)  # eq. 9, seed 003
    if config.density_term:
        out = out / (config.a3 * density)  # eq. 11, seed 003 (density for e^ELBO)
    return out


def pogdiff_loss(out: Tensor, out_nb: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """Eq. 13 of seed 003 for a batch: mean over rows of ||out - target||^2 + psi
    ||out - out_nb||^2, each squared norm divided by m (as ``F.mse_loss`` divides eq. 7's), so
    psi = 0 gives the plain diffusion loss exactly. Gradients flow through both predictions, as
    eq. 13 is written."""
    data = ((out - target) ** 2).mean(dim=1)  # (B,)
    pull = ((out - out_nb) ** 2).mean(dim=1)  # (B,)
    return (data + weight * pull).mean()  # eq. 13, seed 003


@dataclass
class Neighbours:
    """What a fit precomputes on its training rows: each row's k neighbours, their eq. 8
    probabilities and similarities, and the density of each row's bin."""

    index: Tensor  # (N, k)
    probs: Tensor  # (N, k), float32
    sim: Tensor  # (N, k)
    density: Tensor  # (N,)


class FeaturePoGDiff(FeatureDiffusion):
    """:class:`FeatureDiffusion` trained on PoGDiff's loss (seed 003, eq. 8-13; see the module).

    After ``fit``: ``neighbours_`` (:class:`Neighbours` of the training rows),
    ``psi_summary_`` (mean, max and share of zeros of psi over the training rows' expected
    draw)."""

    name = "pogdiff"
    config_class = PoGDiffConfig

    def _floats_per_row(self, m: int) -> int:
        return 2 * super()._floats_per_row(m)  # each row runs with y and with y'

    def _train(self, parts: TrainingParts, z: Tensor, y: Tensor, heldout, source, cap: int):
        self.neighbours_ = self._neighbours(z, y)
        return super()._train(parts, z, y, heldout, source, cap)

    def _neighbours(self, z: Tensor, y: Tensor) -> Neighbours:
        idx, sim = cosine_neighbours(z.cpu(), self.config.k_neighbours)
        density, _ = bin_density(y.cpu().double().numpy())
        nb = Neighbours(idx, neighbour_probabilities(sim).float(), sim.float(),
                        torch.as_tensor(density, dtype=torch.float32))  # fmt: skip
        yc = y.cpu()
        w = psi(nb.sim, yc[nb.index] != yc[:, None], nb.density[:, None], self.config)
        expected = (w * nb.probs).sum(dim=1)  # E over the eq. 8 draw, per row
        self.psi_summary_ = {
            "mean": float(expected.mean()),
            "max": float(w.max()),
            "zero_share": float((expected == 0).float().mean()),
            "other_bin_share": float(((yc[nb.index] != yc[:, None]).float() * nb.probs)
                                     .sum(dim=1).mean()),
        }  # fmt: skip
        return nb

    def draw_neighbours(self, rows: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """For training rows ``rows`` (B,), one neighbour each drawn from Cat(w) (eq. 8) with
        ``gen``: (neighbour rows (B,), their similarities s (B,))."""
        nb = self.neighbours_
        j = torch.multinomial(nb.probs[rows], 1, generator=gen)[:, 0]  # (B,)
        return nb.index[rows, j], nb.sim[rows, j]

    def _train_step(self, parts: TrainingParts, z: Tensor, y: Tensor, step: int) -> Tensor:
        cfg, dev, gen = self.config, self.device, parts.gen
        net, opt, abar = parts.modules["net"], parts.optimizers["opt"], self.alphas_cumprod_
        N, m = z.shape
        rows = parts.batch_rows(N, cfg.batch_size, step)  # (B,), CPU
        idx = rows.to(dev)
        B = idx.numel()
        t_index = torch.randint(cfg.timesteps, (B,), generator=gen).to(dev)  # (B,)
        eps = torch.randn((B, m), generator=gen).to(dev)  # (B, m)
        nb_rows, s = self.draw_neighbours(rows, gen)  # eq. 8, seed 003
        z0, abar_t = z[idx], abar[t_index][:, None]  # (B, m), (B, 1)
        z_t = diffuse(z0, eps, abar_t)  # eq. 3, seed 000
        target = velocity(z0, eps, abar_t) if cfg.prediction == "v" else eps  # eq. 5
        y_own, y_nb = y[idx], y[nb_rows.to(dev)]
        both = parts.network("net")(
            torch.cat([z_t, z_t]), torch.cat([y_own, y_nb]), torch.cat([t_index, t_index]) + 1
        )  # (2B, m): v(z_t, y) and v(z_t, y') in one pass
        out, out_nb = both[:B], both[B:]
        weight = psi(s.to(dev), y_nb != y_own, self.neighbours_.density[rows].to(dev), cfg)
        loss = pogdiff_loss(out, out_nb, target, weight)  # eq. 13, seed 003
        optimiser_step(opt, loss, net, cfg.grad_clip)
        if parts.ema is not None:
            parts.ema.step(net.parameters())
        return loss
