"""LatentGAN: a label-conditioned GAN over feature vectors z in R^m (seed 000, app. E, Table 11).

The baseline LatentDiff is compared with: "a generator network that produces features conditioned
on target values, with a discriminator that distinguishes between real and synthetic features
while also predicting [label] consistency". The appendix gives no architecture or losses, so this
module uses a standard, stable recipe for MLP GANs on continuous tabular-like vectors:

* generator G(u, y): the denoiser's residual MLP (the blocks of
  :class:`latentdiff.generators.diffusion.Denoiser`, no dropout) with noise u ~ N(0, I) as input
  and the label embedding e_y = LayerNorm(MLP(y)) of seed 000, sec. 3 projected into every block;
  linear output in standardised feature units;
* discriminator D(z, y) -> (logit, y_hat): a spectrally normalised (Miyato et al., 2018) LeakyReLU
  MLP trunk phi(z) with two heads, the real/fake logit psi(phi) + <e_y, phi> (projection
  discriminator, Miyato & Koyama, 2018, eq. 3) and an auxiliary regressor y_hat(phi) of the
  standardised label (AC-GAN, Odena et al., 2017, with a squared error in place of the class
  log-likelihood);
* losses: the non-saturating GAN loss (Goodfellow et al., 2014, sec. 3) plus the auxiliary
  label-consistency term, which trains both players (D on real pairs, G on its own samples:
  the real-only D term avoids AC-GAN's pull towards easily regressed, low-diversity fakes);
* Adam with beta_1 = 0.5 (Radford et al., 2016), one D step per G step, and an EMA of the
  generator's weights for sampling (Yazici et al., 2019), as the diffusion model keeps one.

Spectral normalisation keeps D 1-Lipschitz per layer, so no gradient penalty (no double
backward) is needed: a step costs about as much as two denoiser steps on the CPU.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ..settings import GANConfig
from .base import FeatureGenerator, TrainingParts, make_ema, optimiser_step
from .diffusion import ResidualBlock, label_embedding


class Generator(nn.Module):
    """G(u, y): noise u (B, d) and standardised label y (B,) -> standardised features (B, m).

    Residual MLP like the denoiser: h = W_in u, then blocks h + W2 SiLU(W1 (LN(h) + W_c SiLU(e_y))).
    """

    def __init__(self, m: int, config: GANConfig) -> None:
        super().__init__()
        H, E = config.hidden_dim, config.embed_dim
        self.noise_dim = config.noise_dim
        self.label_embed = label_embedding(E)
        self.input_proj = nn.Linear(config.noise_dim, H)
        self.blocks = nn.ModuleList(ResidualBlock(H, E, 0.0) for _ in range(config.n_blocks))
        self.out_norm = nn.LayerNorm(H)
        self.out_proj = nn.Linear(H, m)

    def forward(self, u: Tensor, y: Tensor) -> Tensor:
        e = F.silu(self.label_embed(y.to(u.dtype)[:, None]))  # (B, E)
        h = self.input_proj(u)  # (B, H)
        for block in self.blocks:
            h = block(h, e)  # (B, H)
        return self.out_proj(self.out_norm(h))  # (B, m)


class Discriminator(nn.Module):
    """D(z, y) -> (real/fake logit (B,), auxiliary label estimate (B,)).

    phi = LeakyReLU MLP of z; logit = psi(phi) + <e_y, phi> (projection discriminator, Miyato &
    Koyama 2018, eq. 3, with e_y = LayerNorm(MLP(y)) for a continuous label); y_hat = w^T phi + b
    (AC-GAN auxiliary head, a regressor here). With ``spectral_norm``, the trunk, both heads and the
    label embedding's output map are spectrally normalised (``config.spectral_norm``).
    """

    def __init__(self, m: int, config: GANConfig) -> None:
        super().__init__()
        H, E = config.d_hidden_dim, config.embed_dim

        def lin(i: int, o: int) -> nn.Module:
            return spectral_norm(nn.Linear(i, o)) if config.spectral_norm else nn.Linear(i, o)

        layers: list[nn.Module] = []
        for k in range(config.d_layers):
            layers += [lin(m if k == 0 else H, H), nn.LeakyReLU(config.leaky_slope)]
        self.trunk = nn.Sequential(*layers)
        self.label_embed = nn.Sequential(*label_embedding(E), lin(E, H))
        self.adv = lin(H, 1)
        self.aux = lin(H, 1)

    def forward(self, z: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        phi = self.trunk(z)  # (B, H)
        e = self.label_embed(y.to(z.dtype)[:, None])  # (B, H)
        logit = self.adv(phi)[:, 0] + (e * phi).sum(dim=1)  # projection discriminator
        return logit, self.aux(phi)[:, 0]  # (B,), (B,)


class FeatureGAN(FeatureGenerator):
    """Conditional GAN p_G(z | y) over features (LatentGAN, seed 000, app. E): the same interface
    and standardisation as :class:`latentdiff.generators.diffusion.FeatureDiffusion`, so it can
    replace it in :class:`latentdiff.samplers.LatentDiffSampler` (``generator="gan"``). Settings:
    :class:`latentdiff.settings.GANConfig`. Per-step losses are kept in ``d_loss_history_``,
    ``g_loss_history_`` and ``aux_loss_history_`` (D's auxiliary squared error on real pairs,
    standardised label units)."""

    name = "feature-gan"
    config_class = GANConfig
    loss_names = ("d", "g", "aux")
    structural_settings = (
        "noise_dim", "hidden_dim", "n_blocks", "embed_dim", "d_hidden_dim", "d_layers",
        "spectral_norm",
    )  # fmt: skip
    ema_module = "G"
    #: ``fine_tune="head"`` trains G's label embedding and output layers (its residual blocks
    #: and noise projection stay as pretrained) and the whole discriminator, the critic of the
    #: new features
    head_parameters = {"G": ("label_embed.", "out_norm.", "out_proj.")}

    def _floats_per_row(self, m: int) -> int:
        cfg = self.config
        return (
            8 * m
            + cfg.hidden_dim * (6 * cfg.n_blocks + 4)
            + cfg.d_hidden_dim * (4 * cfg.d_layers + 4)
            + 6 * cfg.embed_dim
        )

    def _build(self, m: int):
        cfg, dev = self.config, self.device
        G, D = Generator(m, cfg).to(dev), Discriminator(m, cfg).to(dev)
        fused, betas = dev.type in ("cpu", "cuda"), (cfg.beta1, cfg.beta2)
        opt_g = torch.optim.Adam(G.parameters(), cfg.lr_g, betas=betas, fused=fused)
        opt_d = torch.optim.Adam(D.parameters(), cfg.lr_d, betas=betas, fused=fused)
        ema = make_ema(G.parameters(), cfg.ema_decay) if cfg.use_ema else None
        history = torch.empty((cfg.n_steps, 3))
        return {"G": G, "D": D}, {"G": opt_g, "D": opt_d}, ema, history

    def _train_step(self, parts: TrainingParts, z: Tensor, y_all: Tensor, step: int) -> Tensor:
        cfg, dev, gen = self.config, self.device, parts.gen
        G, D = parts.modules["G"], parts.modules["D"]
        opt_g, opt_d = parts.optimizers["G"], parts.optimizers["D"]
        B, d = cfg.batch_size, cfg.noise_dim
        idx = torch.randint(z.shape[0], (B,), generator=gen).to(dev)  # (B,)
        z_real, y = z[idx], y_all[idx]  # (B, m), (B,); fakes share the labels
        u = torch.randn((B, d), generator=gen).to(dev)  # (B, d)
        # D step: -log sigma(D(x, y)) - log(1 - sigma(D(G(u, y), y))) + aux * (y_hat - y)^2
        D.requires_grad_(True)
        with torch.no_grad():
            z_fake = G(u, y)  # (B, m)
        logit_r, y_hat_r = D(z_real, y)
        logit_f, _ = D(z_fake, y)
        aux_d = F.mse_loss(y_hat_r, y)  # auxiliary label consistency on real pairs
        loss_d = F.softplus(-logit_r).mean() + F.softplus(logit_f).mean() + cfg.aux_weight * aux_d
        optimiser_step(opt_d, loss_d, D, cfg.grad_clip)
        # G step, non-saturating: -log sigma(D(G(u, y), y)) + aux * (y_hat(G(u, y)) - y)^2
        D.requires_grad_(False)
        u = torch.randn((B, d), generator=gen).to(dev)  # (B, d)
        logit_f, y_hat_f = D(G(u, y), y)
        loss_g = F.softplus(-logit_f).mean() + cfg.aux_weight * F.mse_loss(y_hat_f, y)
        optimiser_step(opt_g, loss_g, G, cfg.grad_clip)
        if parts.ema is not None:
            parts.ema.step(G.parameters())
        return torch.stack([loss_d.detach(), loss_g.detach(), aux_d.detach()])

    def _finish(self, parts: TrainingParts) -> nn.Module:
        self.generator_, self.discriminator_ = parts.modules["G"], parts.modules["D"]
        self.discriminator_.requires_grad_(True)
        self.ema_ = parts.ema
        self.ema_generator_ = None
        if parts.ema is not None:
            self.ema_generator_ = copy.deepcopy(self.generator_)
            parts.ema.copy_to(self.ema_generator_.parameters())
        hist = parts.history
        self.d_loss_history_ = hist[:, 0].tolist()
        self.g_loss_history_ = hist[:, 1].tolist()
        self.aux_loss_history_ = hist[:, 2].tolist()
        return self.ema_generator_ if self.ema_generator_ is not None else self.generator_

    def _sample_batch(self, y: Tensor, gen: torch.Generator) -> Tensor:
        """z = G(u, y) with u ~ N(0, I)."""
        u = torch.randn((len(y), self.config.noise_dim), generator=gen).to(self.device)  # (b, d)
        return self.sampling_network_(u, y)  # (b, m)
