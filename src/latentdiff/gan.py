"""LatentGAN: a label-conditioned GAN over feature vectors z in R^m (seed 000, app. E, Table 11).

The baseline LatentDiff is compared with: "a generator network that produces features conditioned
on target values, with a discriminator that distinguishes between real and synthetic features
while also predicting [label] consistency". The appendix gives no architecture or losses, so this
module uses a standard, stable recipe for MLP GANs on continuous tabular-like vectors:

* generator G(u, y): the denoiser's residual MLP (:class:`latentdiff.diffusion.Denoiser` blocks,
  no dropout) with noise u ~ N(0, I) as input and the label embedding e_y = LayerNorm(MLP(y)) of
  seed 000, sec. 3 projected into every block; linear output in standardised feature units;
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
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from .diffusion import (
    _check_checkpoint_args,
    _finite_1d,
    _make_ema,
    _require_batch_memory,
    _ResidualBlock,
    _seed,
    _seeded_global_rng,
    _standardised_training_data,
    _TrainingParts,
)


@dataclass
class GANConfig:
    """Hyper-parameters of the feature GAN (no values in seed 000; see the module docstring).

    ``n_steps`` counts generator steps (each preceded by one discriminator step); the default
    takes about as long on a 2-core CPU as :class:`latentdiff.diffusion.DiffusionConfig`'s 2000
    denoiser steps (20000 x 64 features). ``aux_weight`` weighs the auxiliary label regression
    (standardised label units) against the adversarial loss; 0 leaves only the projection term
    to condition D. ``spectral_norm = False`` gives a plain MLP discriminator (less stable).
    ``ema_decay`` caps diffusers' EMA warm-up decay as in the diffusion model; ``grad_clip = 0``
    disables clipping.
    """

    noise_dim: int = 64
    hidden_dim: int = 512
    n_blocks: int = 3
    embed_dim: int = 128
    d_hidden_dim: int = 512
    d_layers: int = 2
    spectral_norm: bool = True
    leaky_slope: float = 0.2
    aux_weight: float = 1.0
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 256
    n_steps: int = 1000
    ema_decay: float = 0.999
    use_ema: bool = True
    grad_clip: float = 0.0

    def __post_init__(self) -> None:
        ints = ("noise_dim", "hidden_dim", "n_blocks", "embed_dim", "d_hidden_dim", "d_layers")
        for name in (*ints, "batch_size", "n_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        checks = {
            "leaky_slope": (self.leaky_slope, lambda x: 0 <= x < 1, "in [0, 1)"),
            "aux_weight": (self.aux_weight, lambda x: x >= 0, ">= 0"),
            "lr_g": (self.lr_g, lambda x: x > 0, "> 0"),
            "lr_d": (self.lr_d, lambda x: x > 0, "> 0"),
            "beta1": (self.beta1, lambda x: 0 <= x < 1, "in [0, 1)"),
            "beta2": (self.beta2, lambda x: 0 <= x < 1, "in [0, 1)"),
            "ema_decay": (self.ema_decay, lambda x: 0 <= x < 1, "in [0, 1)"),
            "grad_clip": (self.grad_clip, lambda x: x >= 0, ">= 0 (0 disables clipping)"),
        }
        for name, (value, ok, rule) in checks.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a finite number {rule}, got {value!r}")
            if not math.isfinite(value) or not ok(value):
                raise ValueError(f"{name} must be a finite number {rule}, got {value!r}")
        for name in ("spectral_norm", "use_ema"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")


def _label_embedding(E: int) -> nn.Sequential:
    """e_y = LayerNorm(MLP(y)), the denoiser's label embedding (seed 000, sec. 3)."""
    return nn.Sequential(nn.Linear(1, E), nn.SiLU(), nn.Linear(E, E), nn.LayerNorm(E))


class Generator(nn.Module):
    """G(u, y): noise u (B, d) and standardised label y (B,) -> standardised features (B, m).

    Residual MLP like the denoiser: h = W_in u, then blocks h + W2 SiLU(W1 (LN(h) + W_c SiLU(e_y))).
    """

    def __init__(
        self,
        m: int,
        noise_dim: int = 64,
        hidden_dim: int = 512,
        n_blocks: int = 3,
        embed_dim: int = 128,
    ) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.label_embed = _label_embedding(embed_dim)
        self.input_proj = nn.Linear(noise_dim, hidden_dim)
        blocks = (_ResidualBlock(hidden_dim, embed_dim, 0.0) for _ in range(n_blocks))
        self.blocks = nn.ModuleList(blocks)
        self.out_norm = nn.LayerNorm(hidden_dim)
        self.out_proj = nn.Linear(hidden_dim, m)

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
    (AC-GAN auxiliary head, a regressor here). When ``use_sn``, the trunk, both heads and the
    label embedding's output map are spectrally normalised.
    """

    def __init__(
        self,
        m: int,
        hidden_dim: int = 512,
        n_layers: int = 2,
        embed_dim: int = 128,
        slope: float = 0.2,
        use_sn: bool = True,
    ) -> None:
        super().__init__()

        def lin(i: int, o: int) -> nn.Module:
            return spectral_norm(nn.Linear(i, o)) if use_sn else nn.Linear(i, o)

        layers: list[nn.Module] = []
        for k in range(n_layers):
            layers += [lin(m if k == 0 else hidden_dim, hidden_dim), nn.LeakyReLU(slope)]
        self.trunk = nn.Sequential(*layers)
        self.label_embed = nn.Sequential(
            nn.Linear(1, embed_dim),
            nn.SiLU(),
            nn.Linear(embed_dim, embed_dim),
            nn.LayerNorm(embed_dim),
            lin(embed_dim, hidden_dim),
        )
        self.adv = lin(hidden_dim, 1)
        self.aux = lin(hidden_dim, 1)

    def forward(self, z: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        phi = self.trunk(z)  # (B, H)
        e = self.label_embed(y.to(z.dtype)[:, None])  # (B, H)
        logit = self.adv(phi)[:, 0] + (e * phi).sum(dim=1)  # projection discriminator
        return logit, self.aux(phi)[:, 0]  # (B,), (B,)


class FeatureGAN:
    """Conditional GAN p_G(z | y) over features (LatentGAN, seed 000, app. E).

    Same interface and feature / label standardisation as
    :class:`latentdiff.diffusion.FeatureDiffusion`, so it can replace it in
    :class:`latentdiff.sampler.LatentDiffSampler` (``generator="gan"``).

    Parameters
    ----------
    config : GANConfig, optional
        Hyper-parameters; the defaults of :class:`GANConfig` when None.
    device : str or torch.device
        Where the networks are trained and run.
    random_state : int, optional
        Seed of the training run (weights, batches, noise). None: fresh entropy.
    progress : bool
        Show a tqdm bar during ``fit``.
    checkpoint, checkpoint_every
        As for :class:`latentdiff.diffusion.FeatureDiffusion`: the training state of both
        networks is kept every ``checkpoint_every`` steps and a later fit on the same inputs
        resumes from it.
    """

    def __init__(
        self,
        config: GANConfig | None = None,
        device: str | torch.device = "cpu",
        random_state: int | None = 0,
        progress: bool = True,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 250,
    ) -> None:
        self.config = config if config is not None else GANConfig()
        self.device = torch.device(device)
        self.random_state = random_state
        self.progress = progress
        self.checkpoint = _check_checkpoint_args(checkpoint, checkpoint_every)
        self.checkpoint_every = checkpoint_every

    @property
    def n_parameters_(self) -> int:
        """Number of trainable parameters of the generator."""
        self._check_fitted()
        return sum(p.numel() for p in self.generator_.parameters() if p.requires_grad)

    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise RuntimeError("FeatureGAN is not fitted yet: call fit(Z, c) first")

    def fit(self, Z, c) -> FeatureGAN:
        """Train G and D on features Z (N, m) conditioned on c (N,), in label units.

        Z and c are standardised exactly as in ``FeatureDiffusion.fit`` (stats kept in
        ``z_mean_``, ``z_std_``, ``c_mean_``, ``c_std_``). Per-step losses are kept in
        ``d_loss_history_``, ``g_loss_history_`` and ``aux_loss_history_`` (D's auxiliary squared
        error on real pairs, standardised label units).
        """
        cfg, dev = self.config, self.device
        z_all, y_all = _standardised_training_data(self, Z, c)
        rows = (
            8 * z_all.shape[1]
            + cfg.hidden_dim * (6 * cfg.n_blocks + 4)
            + cfg.d_hidden_dim * (4 * cfg.d_layers + 4)
            + 6 * cfg.embed_dim
        )
        _require_batch_memory(cfg.batch_size, rows, "GAN training")
        N, m = z_all.shape
        B, d = cfg.batch_size, cfg.noise_dim

        seed = _seed(self.random_state)
        gen = torch.Generator().manual_seed(seed)  # batches and noise (CPU: device independent)
        # weight init and the spectral-norm power-iteration vectors draw from torch's global RNG
        with _seeded_global_rng(seed, dev):
            G = Generator(m, d, cfg.hidden_dim, cfg.n_blocks, cfg.embed_dim).to(dev)
            D = Discriminator(
                m,
                cfg.d_hidden_dim,
                cfg.d_layers,
                cfg.embed_dim,
                cfg.leaky_slope,
                cfg.spectral_norm,
            ).to(dev)
            fused = dev.type in ("cpu", "cuda")
            betas = (cfg.beta1, cfg.beta2)
            opt_g = torch.optim.Adam(G.parameters(), cfg.lr_g, betas=betas, fused=fused)
            opt_d = torch.optim.Adam(D.parameters(), cfg.lr_d, betas=betas, fused=fused)
            ema = _make_ema(G.parameters(), cfg.ema_decay) if cfg.use_ema else None
            hist = torch.empty((cfg.n_steps, 3))
            key = ("feature-gan", z_all, y_all, asdict(cfg), seed, dev.type)
            parts = _TrainingParts(
                {"G": G, "D": D}, {"G": opt_g, "D": opt_d}, ema, gen, hist, dev,
                self.checkpoint, key, self.checkpoint_every,
            )  # fmt: skip
            bar = parts.steps("gan fit", self.progress)
            self.resumed_from_step_ = parts.start
            G.train()
            D.train()
            for step in bar:
                idx = torch.randint(N, (B,), generator=gen).to(dev)  # (B,)
                z_real, y = z_all[idx], y_all[idx]  # (B, m), (B,); fakes share the labels
                u = torch.randn((B, d), generator=gen).to(dev)  # (B, d)
                # D step: -log sigma(D(x, y)) - log(1 - sigma(D(G(u, y), y))) + aux * (y_hat - y)^2
                D.requires_grad_(True)
                with torch.no_grad():
                    z_fake = G(u, y)  # (B, m)
                logit_r, y_hat_r = D(z_real, y)
                logit_f, _ = D(z_fake, y)
                aux_d = F.mse_loss(y_hat_r, y)  # auxiliary label consistency on real pairs
                loss_d = F.softplus(-logit_r).mean() + F.softplus(logit_f).mean()
                loss_d = loss_d + cfg.aux_weight * aux_d
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                if cfg.grad_clip > 0:
                    nn.utils.clip_grad_norm_(D.parameters(), cfg.grad_clip)
                opt_d.step()
                # G step, non-saturating: -log sigma(D(G(u, y), y)) + aux * (y_hat(G(u, y)) - y)^2
                D.requires_grad_(False)
                u = torch.randn((B, d), generator=gen).to(dev)  # (B, d)
                logit_f, y_hat_f = D(G(u, y), y)
                loss_g = F.softplus(-logit_f).mean() + cfg.aux_weight * F.mse_loss(y_hat_f, y)
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                if cfg.grad_clip > 0:
                    nn.utils.clip_grad_norm_(G.parameters(), cfg.grad_clip)
                opt_g.step()
                if ema is not None:
                    ema.step(G.parameters())
                hist[step] = torch.stack([loss_d.detach(), loss_g.detach(), aux_d.detach()]).cpu()
                if (step + 1) % 50 == 0:
                    recent = hist[step - 49 : step + 1].mean(dim=0).tolist()
                    bar.set_postfix(d=f"{recent[0]:.3f}", g=f"{recent[1]:.3f}")
                parts.step_done(step + 1)
        G.eval()
        D.eval()
        D.requires_grad_(True)
        self.generator_ = G
        self.discriminator_ = D
        self.ema_ = ema
        self.ema_generator_ = None
        if ema is not None:
            self.ema_generator_ = copy.deepcopy(G)
            ema.copy_to(self.ema_generator_.parameters())
        self.d_loss_history_ = hist[:, 0].tolist()
        self.g_loss_history_ = hist[:, 1].tolist()
        self.aux_loss_history_ = hist[:, 2].tolist()
        return self

    def sample(self, c, batch_size: int = 1024, random_state: int | None = None) -> np.ndarray:
        """Draw one feature vector per condition value in c (label units) -> (n, m) float32.

        z = G(u, y) with u ~ N(0, I), using the EMA generator when ``use_ema``; deterministic
        given ``random_state`` (and ``batch_size``).
        """
        self._check_fitted()
        c = _finite_1d(c, "c")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        net = self.ema_generator_ if self.ema_generator_ is not None else self.generator_
        net.eval()
        m, dev, d = self.n_features_in_, self.device, self.config.noise_dim
        gen = torch.Generator().manual_seed(_seed(random_state))
        y = torch.as_tensor((c - self.c_mean_) / self.c_std_, dtype=torch.float32, device=dev)
        out = [np.empty((0, m), dtype=np.float32)]
        with torch.no_grad():
            for start in range(0, len(c), batch_size):
                y_b = y[start : start + batch_size]  # (b,)
                u = torch.randn((len(y_b), d), generator=gen).to(dev)  # (b, d)
                out.append(net(u, y_b).cpu().numpy())
        Z = np.concatenate(out) * self.z_std_ + self.z_mean_  # un-standardise, (n, m)
        return Z.astype(np.float32)
