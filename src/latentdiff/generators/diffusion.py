"""Label-conditioned diffusion over feature vectors z in R^m (seed 000, sec. 3 and app. D.4).

Forward process eq. 2-3 with the cosine schedule eq. 4 (s = 0.008, T = 50), v-prediction eq. 5-7,
a denoiser g_theta(z_t, y, t) with e_y = LayerNorm(MLP(y)) and e_t = Linear(SinusoidalPE(t)),
EMA weights (decay 0.999) and ancestral sampling with the posterior mean eq. 13 and the variance
of eq. 22, or a few-step sampler (DDIM, DPM-Solver++) chosen by name (:data:`SCHEDULERS`).
Index convention: the paper's t = 1..T is diffusers' timestep index t - 1 = 0..T-1;
``alphas_cumprod[i]`` is abar_{i+1} and abar_0 := 1.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..settings import DiffusionConfig
from .base import FeatureGenerator, TrainingParts, make_ema, optimiser_step
from .stopping import EarlyStopping

MAX_BETA = 0.999  # beta cap of Nichol & Dhariwal (2021), also diffusers' default

#: reverse-process samplers by name (``DiffusionConfig.scheduler``): the diffusers scheduler class,
#: its settings beyond the training schedule, and the keywords of its ``step``. Every one is
#: built with the training betas, ``prediction_type`` and "trailing" timestep spacing
#: (:func:`make_scheduler`); docs/methods.md, "Samplers", says why these settings.
SCHEDULERS: dict[str, tuple[str, dict, dict]] = {
    # ancestral sampling, eq. 13 + 22; with n < T steps the posterior of the respaced chain
    # (beta from abar_t / abar_prev of the visited steps, diffusers' ``previous_timestep``)
    "ddpm": ("DDPMScheduler", {"clip_sample": False}, {}),
    # Song et al. (2021) eq. 12 with eta = 0 (deterministic); abar before the first step := 1
    "ddim": ("DDIMScheduler", {"clip_sample": False, "set_alpha_to_one": True}, {"eta": 0.0}),
    # Lu et al. (2022), DPM-Solver++(2M): data prediction, 2nd order, 1st order at the last
    # step(s) and the last step to sigma = 0 (the denoised estimate itself)
    "dpm-solver++": (
        "DPMSolverMultistepScheduler",
        {
            "algorithm_type": "dpmsolver++",
            "solver_order": 2,
            "lower_order_final": True,
            "final_sigmas_type": "zero",
        },
        {},
    ),  # fmt: skip
}


# --- schedule -------------------------------------------------------------------------------------
def cosine_alpha_bar(T: int, s: float = 0.008) -> np.ndarray:
    """abar_t = f(t) / f(0), f(t) = cos^2(((t/T + s) / (1 + s)) pi/2), for t = 0..T (eq. 4).

    Returns an array of shape (T + 1,); entry t is abar_t, so entry 0 is 1.
    """
    t = np.arange(T + 1, dtype=np.float64)
    f = np.cos((t / T + s) / (1 + s) * np.pi / 2) ** 2  # eq. 4, seed 000
    return f / f[0]


def cosine_betas(T: int, s: float = 0.008, max_beta: float = MAX_BETA) -> np.ndarray:
    """beta_t = min(1 - abar_t / abar_{t-1}, max_beta) for t = 1..T; shape (T,).

    This is diffusers' ``squaredcos_cap_v2`` (index t - 1 holds paper step t) for any offset s.
    f(T) = cos^2(pi/2) ~ 0 makes the uncapped beta_T ~ 1; for T = 50 the cap binds only there
    (abar_T becomes 1e-3 abar_{T-1} ~ 1e-6 instead of ~1e-33), so z_T is still pure noise.
    """
    abar = cosine_alpha_bar(T, s)
    return np.minimum(1.0 - abar[1:] / abar[:-1], max_beta)


def make_scheduler(config: DiffusionConfig, name: str = "ddpm"):
    """The diffusers scheduler ``name`` (default DDPM, the training process; sampling builds
    ``config.scheduler``) holding the betas / alphas_cumprod of ``config`` (eq. 2-4) and its
    prediction type, with "trailing" spacing.

    Cosine with s = 0.008 is ``squaredcos_cap_v2`` (its offset is hard-coded); another s passes
    :func:`cosine_betas` as ``trained_betas``. "linear" is DDPM's 1e-4..0.02 rescaled by 1000 / T
    (as in improved DDPM) so that abar_T ~ 0 for short chains. No clipping of the denoised
    estimate: standardised features are not bounded in [-1, 1]. Trailing spacing (Lin et al.,
    2024, Table 2) starts every chain at t = T, the step whose noise level z_T ~ N(0, I) has; at
    n = T steps it visits T..1 as the full chain does.
    """
    import diffusers  # imported when first needed: the command line checks settings without it

    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}; known: {', '.join(SCHEDULERS)}")
    cls, own, _ = SCHEDULERS[name]
    T = config.timesteps
    pred = "v_prediction" if config.prediction == "v" else "epsilon"
    kw = dict(num_train_timesteps=T, prediction_type=pred, timestep_spacing="trailing", **own)
    if config.schedule == "linear":
        k = 1000.0 / T
        kw.update(beta_schedule="linear", beta_start=min(1e-4 * k, MAX_BETA))
        kw.update(beta_end=min(0.02 * k, MAX_BETA))
    elif config.cosine_s == 0.008:
        kw.update(beta_schedule="squaredcos_cap_v2")
    else:
        kw.update(trained_betas=cosine_betas(T, config.cosine_s))
    return getattr(diffusers, cls)(**kw)


def sampling_timesteps(config: DiffusionConfig):
    """A fresh scheduler of ``config`` set to its ``sampling_steps`` (None: T): the scheduler and
    its timesteps (diffusers' indices, the paper's t - 1), from the noisiest down."""
    scheduler = make_scheduler(config, config.scheduler)
    scheduler.set_timesteps(config.sampling_steps or config.timesteps)
    return scheduler, scheduler.timesteps


# --- the diffusion equations (abar_t broadcastable to z, e.g. (B, 1)) -----------------------------
def diffuse(z0: Tensor, eps: Tensor, abar_t: Tensor) -> Tensor:
    """z_t = sqrt(abar_t) z_0 + sqrt(1 - abar_t) eps (eq. 3)."""
    return abar_t.sqrt() * z0 + (1 - abar_t).sqrt() * eps  # eq. 3, seed 000


def velocity(z0: Tensor, eps: Tensor, abar_t: Tensor) -> Tensor:
    """v_t = sqrt(abar_t) eps - sqrt(1 - abar_t) z_0 (eq. 5)."""
    return abar_t.sqrt() * eps - (1 - abar_t).sqrt() * z0  # eq. 5, seed 000


def predict_z0(output: Tensor, z_t: Tensor, abar_t: Tensor, prediction: str = "v") -> Tensor:
    """Denoised estimate z0_hat from the network output (eq. 6 for v, DDPM eq. 15 for epsilon).

    Not clamped. The epsilon form divides by sqrt(abar_t) (~1e-3 at t = T under the capped cosine
    schedule), so eps errors are amplified there; eq. 6 has no such division.
    """
    if prediction == "v":
        return abar_t.sqrt() * z_t - (1 - abar_t).sqrt() * output  # eq. 6, seed 000
    if prediction == "epsilon":
        return (z_t - (1 - abar_t).sqrt() * output) / abar_t.sqrt()  # eq. 3 solved for z_0
    raise ValueError(f"prediction must be 'v' or 'epsilon', got {prediction!r}")


def _step_coefficients(t_index: int, alphas_cumprod: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(abar_t, abar_{t-1}, beta_t) for paper step t = t_index + 1, with abar_0 := 1."""
    abar_t = alphas_cumprod[t_index]
    abar_prev = alphas_cumprod[t_index - 1] if t_index > 0 else torch.ones_like(abar_t)
    return abar_t, abar_prev, 1 - abar_t / abar_prev


def posterior_mean(z0_hat: Tensor, z_t: Tensor, t_index: int, alphas_cumprod: Tensor) -> Tensor:
    """Mean of q(z_{t-1} | z_t, z0_hat) at paper step t = t_index + 1 (eq. 13), abar_0 := 1.

    mu = sqrt(abar_{t-1}) beta_t / (1 - abar_t) z0_hat
         + sqrt(alpha_t) (1 - abar_{t-1}) / (1 - abar_t) z_t
    """
    abar_t, abar_prev, beta_t = _step_coefficients(t_index, alphas_cumprod)
    alpha_t = 1 - beta_t
    coef_z0 = abar_prev.sqrt() * beta_t / (1 - abar_t)  # eq. 13, seed 000: denoised contribution
    coef_zt = alpha_t.sqrt() * (1 - abar_prev) / (1 - abar_t)  # eq. 13: current-state contribution
    return coef_z0 * z0_hat + coef_zt * z_t


def posterior_variance(t_index: int, alphas_cumprod: Tensor) -> Tensor:
    """sigma_t^2 = (1 - abar_{t-1}) / (1 - abar_t) beta_t (eq. 22); 0 at t = 1."""
    abar_t, abar_prev, beta_t = _step_coefficients(t_index, alphas_cumprod)
    return (1 - abar_prev) / (1 - abar_t) * beta_t  # eq. 22, seed 000


def reverse_process(
    predict: Callable[[Tensor, int], Tensor],
    z_T: Tensor,
    alphas_cumprod: Tensor,
    prediction: str = "v",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Ancestral sampling z_T -> z_0 with p(z_{t-1} | z_t, y) = N(mu, sigma_t^2 I) (eq. 12-13, 22).

    ``predict(z_t, t_index)`` returns the network output (v or epsilon) for all rows of z_t.
    Noise is drawn on the CPU from ``generator`` so results do not depend on the device.
    """
    z = z_T  # (B, m)
    for t_index in reversed(range(alphas_cumprod.shape[0])):
        z0_hat = predict_z0(predict(z, t_index), z, alphas_cumprod[t_index], prediction)  # (B, m)
        z = posterior_mean(z0_hat, z, t_index, alphas_cumprod)  # eq. 13, seed 000
        if t_index > 0:  # no noise at the last step t = 1 (sigma_1 = 0)
            noise = torch.randn(z.shape, generator=generator).to(z)  # (B, m)
            z = z + posterior_variance(t_index, alphas_cumprod).sqrt() * noise
    return z


# --- denoiser g_theta(z_t, y, t) ------------------------------------------------------------------
def sinusoidal_embedding(t: Tensor, dim: int, max_period: float = 10_000.0) -> Tensor:
    """Transformer sinusoidal position encoding of integer steps t, shape (B,) -> (B, dim)."""
    half = dim // 2
    k = torch.arange(half, device=t.device, dtype=torch.float32)  # (dim/2,)
    freqs = torch.exp(-math.log(max_period) * k / half)  # (dim/2,)
    args = t.float()[:, None] * freqs[None, :]  # (B, dim/2)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)  # (B, dim)


class ResidualBlock(nn.Module):
    """Pre-LayerNorm residual MLP: h + W2 Dropout(SiLU(W1 (LayerNorm(h) + W_c e)))."""

    def __init__(self, hidden_dim: int, embed_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden_dim)
        self.cond = nn.Linear(embed_dim, hidden_dim)
        self.fc1 = nn.Linear(hidden_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: Tensor, e: Tensor) -> Tensor:
        x = self.norm(h) + self.cond(e)  # (B, H)
        return h + self.fc2(self.dropout(F.silu(self.fc1(x))))  # (B, H)


def label_embedding(E: int) -> nn.Sequential:
    """e_y = LayerNorm(MLP(y)) of seed 000, sec. 3, for a standardised scalar label."""
    return nn.Sequential(nn.Linear(1, E), nn.SiLU(), nn.Linear(E, E), nn.LayerNorm(E))


def class_embedding(E: int, n_classes: int) -> nn.Sequential:
    """e_y = LayerNorm(Embedding(y)) for a class index y in 0..n_classes-1: the class condition
    of seed 002's eps_theta(z_t, t, y) (sec. 3.3), in the place of the scalar label's MLP."""
    return nn.Sequential(nn.Embedding(n_classes, E), nn.LayerNorm(E))


#: noise and step draws per held-out row in the early-stopping loss
HELDOUT_DRAWS = 2

#: the automatic denoiser width: the feature dimension, kept within these bounds; and its depth
AUTO_WIDTH = (128, 256)
AUTO_BLOCKS = 2


def denoiser_size(m: int, config: DiffusionConfig) -> tuple[int, int]:
    """(width, residual blocks) of the denoiser for m-d features: the settings where given, else
    width = m within :data:`AUTO_WIDTH` and :data:`AUTO_BLOCKS` blocks (measured choice:
    docs/design.md, "Denoiser size")."""
    lo, hi = AUTO_WIDTH
    H = config.hidden_dim if config.hidden_dim is not None else int(min(max(m, lo), hi))
    n_blocks = config.n_blocks if config.n_blocks is not None else AUTO_BLOCKS
    return H, n_blocks


class Denoiser(nn.Module):
    """g_theta(z_t, y, t) of seed 000, sec. 3: predicts v (or epsilon) from z_t, label y, step t.

    e_y = LayerNorm(MLP(y)), e_t = Linear(SinusoidalPE(t)); the condition SiLU(e_y + e_t) is
    projected into every residual block. The output layer is zero-initialised (g = 0 at start).
    """

    def __init__(self, m: int, config: DiffusionConfig, n_classes: int | None = None) -> None:
        super().__init__()
        self.embed_dim = E = config.embed_dim
        (H, n_blocks), dropout = denoiser_size(m, config), config.dropout
        #: None: y is a standardised scalar label; else y holds class indices 0..n_classes-1
        self.n_classes = n_classes
        if n_classes is None:
            self.label_embed = label_embedding(E)  # e_y = LayerNorm(MLP(y))
        else:
            self.label_embed = class_embedding(E, n_classes)  # e_y = LayerNorm(Embedding(y))
        self.time_embed = nn.Linear(E, E)  # e_t = Linear(SinusoidalPE(t))
        self.input_proj = nn.Linear(m, H)
        self.blocks = nn.ModuleList(ResidualBlock(H, E, dropout) for _ in range(n_blocks))
        self.out_norm = nn.LayerNorm(H)
        self.out_proj = nn.Linear(H, m)
        nn.init.zeros_(self.out_proj.weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, z_t: Tensor, y: Tensor, t: Tensor) -> Tensor:
        """z_t (B, m), standardised label (or class index) y (B,), paper step t in 1..T (B,)
        -> (B, m)."""
        if self.n_classes is None:
            e_y = self.label_embed(y.to(z_t.dtype)[:, None])  # (B, E)
        else:
            e_y = self.label_embed(y.long())  # (B, E)
        e_t = self.time_embed(sinusoidal_embedding(t, self.embed_dim))  # (B, E)
        e = F.silu(e_y + e_t)  # (B, E)
        h = self.input_proj(z_t)  # (B, H)
        for block in self.blocks:
            h = block(h, e)  # (B, H)
        return self.out_proj(self.out_norm(h))  # (B, m)


# --- model ----------------------------------------------------------------------------------------
class FeatureDiffusion(FeatureGenerator):
    """Conditional diffusion model p_theta(z | y) over features, trained on eq. 7 (seed 000) and
    sampled through the diffusers scheduler ``config.scheduler`` (DDPM: ancestral sampling,
    eq. 12-13, 22; DDIM; DPM-Solver++) over ``config.sampling_steps`` steps, with the EMA
    denoiser when ``use_ema``; :meth:`set_sampling` changes both on a fitted model. Settings:
    :class:`latentdiff.settings.DiffusionConfig` (Table 6 defaults); the rest as
    :class:`latentdiff.generators.base.FeatureGenerator`."""

    name = "feature-diffusion"
    config_class = DiffusionConfig
    sampling_settings = ("scheduler", "sampling_steps")
    structural_settings = (
        "timesteps", "schedule", "cosine_s", "prediction", "hidden_dim", "n_blocks", "embed_dim"
    )  # fmt: skip
    ema_module = "net"
    distributed_modules = ("net",)
    #: ``fine_tune="head"`` trains the layers at the denoiser's ends, those that read the
    #: feature vector (``input_proj``) and the label (``label_embed``) and those that write the
    #: prediction (``out_norm``, ``out_proj``: CoDSA's "noise prediction head"); the residual
    #: backbone (``blocks``, their condition projections included) and the time embedding stay
    #: as pretrained: about 5 % of the parameters at the default sizes and m = 64
    head_parameters = {"net": ("input_proj.", "label_embed.", "out_norm.", "out_proj.")}

    def _floats_per_row(self, m: int) -> int:
        H, n_blocks = denoiser_size(m, self.config)
        return 6 * m + H * (6 * n_blocks + 4) + 6 * self.config.embed_dim

    def _build(self, m: int):
        cfg = self.config
        self.scheduler_ = make_scheduler(cfg)  # the training schedule (every sampler's)
        self.alphas_cumprod_ = self.scheduler_.alphas_cumprod.to(self.device, torch.float32)
        net = self._denoiser(m).to(self.device)
        fused = self.device.type in ("cpu", "cuda")  # fused AdamW: ~10x faster step on CPU
        opt = torch.optim.AdamW(
            net.parameters(), cfg.lr, weight_decay=cfg.weight_decay, fused=fused
        )
        ema = make_ema(net.parameters(), cfg.ema_decay) if cfg.use_ema else None
        return {"net": net}, {"opt": opt}, ema, torch.empty(cfg.n_steps)

    def _denoiser(self, m: int) -> Denoiser:
        """The network g_theta for m-d features (a class-conditional model overrides it)."""
        return Denoiser(m, self.config)

    def _train_step(self, parts: TrainingParts, z: Tensor, y: Tensor, step: int) -> Tensor:
        cfg, dev, gen = self.config, self.device, parts.gen
        net, opt, abar = parts.modules["net"], parts.optimizers["opt"], self.alphas_cumprod_
        N, m = z.shape
        idx = parts.batch_rows(N, cfg.batch_size, step).to(dev)  # (B,); under torchrun a shard's
        B = idx.numel()
        t_index = torch.randint(cfg.timesteps, (B,), generator=gen).to(dev)  # (B,)
        eps = torch.randn((B, m), generator=gen).to(dev)  # (B, m)
        z0, abar_t = z[idx], abar[t_index][:, None]  # (B, m), (B, 1)
        z_t = diffuse(z0, eps, abar_t)  # eq. 3, seed 000
        target = velocity(z0, eps, abar_t) if cfg.prediction == "v" else eps  # eq. 5
        out = parts.network("net")(z_t, y[idx], t_index + 1)  # in DDP under torchrun
        loss = F.mse_loss(out, target)  # eq. 7, seed 000
        optimiser_step(opt, loss, net, cfg.grad_clip)
        if parts.ema is not None:
            parts.ema.step(net.parameters())
        return loss

    def _step_cap(self, n_rows: int) -> int:
        """``n_steps``, and at most ``max_epochs`` passes over the training rows."""
        cfg = self.config
        if cfg.max_epochs is None:
            return cfg.n_steps
        return min(cfg.n_steps, max(1, math.ceil(cfg.max_epochs * n_rows / cfg.batch_size)))

    def _early_stopping(self) -> EarlyStopping | None:
        cfg = self.config
        if not cfg.early_stopping:
            return None
        return EarlyStopping(cfg.heldout_fraction, cfg.eval_every, cfg.patience, cfg.min_delta)

    def _heldout_draws(self, z: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """(step indices, noise): HELDOUT_DRAWS per held-out row, drawn once."""
        n = len(z) * HELDOUT_DRAWS
        t_index = torch.randint(self.config.timesteps, (n,), generator=gen).to(z.device)
        return t_index, torch.randn((n, z.shape[1]), generator=gen).to(z)

    def _heldout_loss(self, parts: TrainingParts, z: Tensor, y: Tensor, draws: tuple) -> float:
        net, ema = parts.modules["net"], parts.ema
        t_index, eps = draws
        z0, yy = z.repeat(HELDOUT_DRAWS, 1), y.repeat(HELDOUT_DRAWS)  # row i + k n: row i
        abar_t = self.alphas_cumprod_[t_index][:, None]
        target = velocity(z0, eps, abar_t) if self.config.prediction == "v" else eps  # eq. 5
        if ema is not None:  # the weights that will sample
            ema.store(net.parameters())
            ema.copy_to(net.parameters())
        net.eval()
        with torch.no_grad():
            loss = F.mse_loss(net(diffuse(z0, eps, abar_t), yy, t_index + 1), target)  # eq. 7
        net.train()
        if ema is not None:
            ema.restore(net.parameters())
        return float(loss)

    def _finish(self, parts: TrainingParts) -> nn.Module:
        self.denoiser_ = parts.modules["net"]
        self.ema_ = parts.ema
        self.ema_denoiser_ = None
        if parts.ema is not None:
            self.ema_denoiser_ = copy.deepcopy(self.denoiser_)
            parts.ema.copy_to(self.ema_denoiser_.parameters())
        self.loss_history_ = parts.history.tolist()
        return self.ema_denoiser_ if self.ema_denoiser_ is not None else self.denoiser_

    def _sample_batch(self, y: Tensor, gen: torch.Generator) -> Tensor:
        """Reverse process from z_T ~ N(0, I) through the scheduler ``config.scheduler`` over
        ``config.sampling_steps`` trailing timesteps (by default DPM-Solver++(2M) in 10 steps:
        docs/methods.md, "Samplers"). ``ddpm`` at T steps is ancestral sampling:
        the posterior mean eq. 13 and variance eq. 22, no noise at the last step, no clipping of
        z0_hat (the same numbers as :func:`reverse_process`, tested)."""
        net, dev = self.sampling_network_, self.device
        scheduler, timesteps = sampling_timesteps(self.config)
        step_kw = SCHEDULERS[self.config.scheduler][2]
        z = torch.randn((len(y), self.n_features_in_), generator=gen).to(dev)  # z_T, (b, m)
        for t in timesteps:  # diffusers' index t is the paper's step t + 1
            out = net(z, y, torch.full((len(y),), int(t) + 1, device=dev))  # (b, m)
            z = scheduler.step(out, t, z, generator=gen, **step_kw).prev_sample
        return z
