"""Label-conditioned diffusion over feature vectors z in R^m (seed 000, sec. 3 and app. D.4).

Forward process eq. 2-3 with the cosine schedule eq. 4 (s = 0.008, T = 50), v-prediction eq. 5-7,
a denoiser g_theta(z_t, y, t) with e_y = LayerNorm(MLP(y)) and e_t = Linear(SinusoidalPE(t)),
EMA weights (decay 0.999) and ancestral sampling with the posterior mean eq. 13 and the variance
of eq. 22. Index convention: the paper's t = 1..T is diffusers' timestep index t - 1 = 0..T-1;
``alphas_cumprod[i]`` is abar_{i+1} and abar_0 := 1.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import memory
from .io import fingerprint, load_state, save_state

MAX_BETA = 0.999  # beta cap of Nichol & Dhariwal (2021), also diffusers' default
MAX_TIMESTEPS = 10_000  # far above any published feature or image diffusion schedule


@dataclass
class DiffusionConfig:
    """Hyper-parameters of the feature diffusion model (defaults: seed 000, Table 6).

    ``grad_clip = 0`` disables gradient clipping; ``n_steps`` counts optimiser steps.
    ``ema_decay`` caps diffusers' EMA warm-up decay_k = min(ema_decay, (1 + k) / (10 + k)), so
    0.999 itself is reached only after ~9000 steps (~0.9955 at step 2000).
    """

    timesteps: int = 50
    schedule: Literal["cosine", "linear"] = "cosine"
    cosine_s: float = 0.008
    prediction: Literal["v", "epsilon"] = "v"
    hidden_dim: int = 512
    n_blocks: int = 3
    dropout: float = 0.1
    embed_dim: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 256
    n_steps: int = 2000
    ema_decay: float = 0.999
    use_ema: bool = True
    grad_clip: float = 1.0

    def __post_init__(self) -> None:
        for name in ("timesteps", "hidden_dim", "n_blocks", "embed_dim", "batch_size", "n_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.timesteps > MAX_TIMESTEPS:
            raise ValueError(
                f"timesteps = {self.timesteps} is more than {MAX_TIMESTEPS}: sampling runs one "
                f"denoiser pass per step for every feature (the paper uses 50, DDPM 1000)"
            )
        if self.embed_dim % 2:
            raise ValueError(f"embed_dim must be even (sin/cos pairs), got {self.embed_dim}")
        if self.schedule not in ("cosine", "linear"):
            raise ValueError(f"schedule must be 'cosine' or 'linear', got {self.schedule!r}")
        if self.prediction not in ("v", "epsilon"):
            raise ValueError(f"prediction must be 'v' or 'epsilon', got {self.prediction!r}")
        checks = {
            "cosine_s": (self.cosine_s, lambda x: x >= 0, ">= 0"),
            "dropout": (self.dropout, lambda x: 0 <= x < 1, "in [0, 1)"),
            "lr": (self.lr, lambda x: x > 0, "> 0"),
            "weight_decay": (self.weight_decay, lambda x: x >= 0, ">= 0"),
            "ema_decay": (self.ema_decay, lambda x: 0 <= x < 1, "in [0, 1)"),
            "grad_clip": (self.grad_clip, lambda x: x >= 0, ">= 0 (0 disables clipping)"),
        }
        for name, (value, ok, rule) in checks.items():
            if not isinstance(value, int | float) or not math.isfinite(value) or not ok(value):
                raise ValueError(f"{name} must be a finite number {rule}, got {value!r}")
        if not isinstance(self.use_ema, bool):
            raise ValueError(f"use_ema must be a bool, got {self.use_ema!r}")


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


def make_scheduler(config: DiffusionConfig) -> DDPMScheduler:
    """diffusers ``DDPMScheduler`` holding the betas / alphas_cumprod of ``config`` (eq. 2-4).

    Cosine with s = 0.008 is ``squaredcos_cap_v2`` (its offset is hard-coded); another s passes
    :func:`cosine_betas` as ``trained_betas``. "linear" is DDPM's 1e-4..0.02 rescaled by 1000 / T
    (as in improved DDPM) so that abar_T ~ 0 for short chains. ``clip_sample`` is off: standardised
    features are not bounded in [-1, 1].
    """
    T = config.timesteps
    pred = "v_prediction" if config.prediction == "v" else "epsilon"
    kw = dict(num_train_timesteps=T, prediction_type=pred, clip_sample=False)
    if config.schedule == "linear":
        k = 1000.0 / T
        kw.update(beta_schedule="linear", beta_start=min(1e-4 * k, MAX_BETA))
        kw.update(beta_end=min(0.02 * k, MAX_BETA))
    elif config.cosine_s == 0.008:
        kw.update(beta_schedule="squaredcos_cap_v2")
    else:
        kw.update(trained_betas=cosine_betas(T, config.cosine_s))
    return DDPMScheduler(**kw)


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


class _ResidualBlock(nn.Module):
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


class Denoiser(nn.Module):
    """g_theta(z_t, y, t) of seed 000, sec. 3: predicts v (or epsilon) from z_t, label y, step t.

    e_y = LayerNorm(MLP(y)), e_t = Linear(SinusoidalPE(t)); the condition SiLU(e_y + e_t) is
    projected into every residual block. The output layer is zero-initialised (g = 0 at start).
    """

    def __init__(
        self,
        m: int,
        hidden_dim: int = 512,
        n_blocks: int = 3,
        embed_dim: int = 128,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.embed_dim = E = embed_dim
        mlp = [nn.Linear(1, E), nn.SiLU(), nn.Linear(E, E)]
        self.label_embed = nn.Sequential(*mlp, nn.LayerNorm(E))  # e_y = LayerNorm(MLP(y))
        self.time_embed = nn.Linear(E, E)  # e_t = Linear(SinusoidalPE(t))
        self.input_proj = nn.Linear(m, hidden_dim)
        self.blocks = nn.ModuleList(_ResidualBlock(hidden_dim, E, dropout) for _ in range(n_blocks))
        self.out_norm = nn.LayerNorm(hidden_dim)
        self.out_proj = nn.Linear(hidden_dim, m)
        nn.init.zeros_(self.out_proj.weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, z_t: Tensor, y: Tensor, t: Tensor) -> Tensor:
        """z_t (B, m), standardised label y (B,), paper step t in 1..T (B,) -> (B, m)."""
        e_y = self.label_embed(y.to(z_t.dtype)[:, None])  # (B, E)
        e_t = self.time_embed(sinusoidal_embedding(t, self.embed_dim))  # (B, E)
        e = F.silu(e_y + e_t)  # (B, E)
        h = self.input_proj(z_t)  # (B, H)
        for block in self.blocks:
            h = block(h, e)  # (B, H)
        return self.out_proj(self.out_norm(h))  # (B, m)


# --- EMA ------------------------------------------------------------------------------------------
def _make_ema(parameters: Iterable[nn.Parameter], decay: float):
    """diffusers' ``EMAModel`` over the denoiser's parameters (foreach update: one fused kernel)."""
    from diffusers.training_utils import EMAModel  # imports transformers: only when training

    return EMAModel(parameters, decay=decay, foreach=True)


# --- model ----------------------------------------------------------------------------------------
def _seed(random_state: int | None) -> int:
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])  # fresh OS entropy
    return int(random_state)


def _finite_1d(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim > 1 and x.size == x.shape[0]:
        x = x.reshape(-1)  # accept (n, 1)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has {int((~np.isfinite(x)).sum())} non-finite value(s)")
    return x


def _standardised_training_data(model, Z, c) -> tuple[Tensor, Tensor]:
    """Check features Z (N, m) and conditions c (N,), store their standardisation on ``model``
    (``n_features_in_``, ``z_mean_``, ``z_std_``, ``c_mean_``, ``c_std_``) and return both
    standardised as float32 tensors on ``model.device``. Shared by the diffusion model and the
    GAN, so that both see the same inputs."""
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] < 1:
        raise ValueError(f"Z must be a 2-D array of shape (n_samples, m), got shape {Z.shape}")
    if not np.all(np.isfinite(Z)):
        raise ValueError(f"Z has {int((~np.isfinite(Z)).sum())} non-finite value(s)")
    c = _finite_1d(c, "c")
    if len(c) != len(Z):
        raise ValueError(f"Z and c have different lengths: {len(Z)} vs {len(c)}")
    if len(Z) < 2:
        raise ValueError(f"at least 2 samples are needed to fit, got {len(Z)}")
    dev = model.device
    model.n_features_in_ = Z.shape[1]
    model.z_mean_ = Z.mean(axis=0)
    model.z_std_ = np.maximum(Z.std(axis=0), 1e-6)
    model.c_mean_ = float(c.mean())
    c_std = float(c.std())
    model.c_std_ = c_std if c_std > 1e-6 else 1.0  # one condition value: only centre it
    z = torch.as_tensor((Z - model.z_mean_) / model.z_std_, dtype=torch.float32, device=dev)
    y = torch.as_tensor((c - model.c_mean_) / model.c_std_, dtype=torch.float32, device=dev)
    return z, y


@contextmanager
def _seeded_global_rng(seed: int, dev: torch.device):
    """Fork torch's global RNG (the caller's state is restored on exit) and seed the forked
    generators of the devices used: for what draws from it (weight init, dropout)."""
    cuda = (
        []
        if dev.type != "cuda"
        else [torch.cuda.current_device() if dev.index is None else dev.index]
    )
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def _require_batch_memory(batch_size: int, floats_per_row: int, what: str) -> None:
    """Refuse a batch whose activations and gradients (float32, about twice the forward
    activations) would not fit in memory."""
    memory.require(
        8.0 * batch_size * floats_per_row,
        f"{what} with batch_size = {batch_size:,}",
        "use a smaller batch_size",
    )


def _check_checkpoint_args(checkpoint, every) -> Path | None:
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"checkpoint_every must be a positive integer, got {every!r}")
    return None if checkpoint is None else Path(checkpoint)


@dataclass
class _TrainingParts:
    """What a generator's training loop carries from one step to the next, checkpointed and
    restored exactly: the networks, their optimisers, the EMA, both RNGs (the batch generator and
    the forked global one that drives dropout and spectral norm) and the loss history.

    ``path`` None: no checkpoints. ``key_parts``: what the checkpoint is keyed by (the loop's
    inputs, configuration and seed), hashed by :func:`fingerprint` only when there is a path."""

    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    ema: object | None
    gen: torch.Generator
    history: Tensor
    device: torch.device
    path: Path | None
    key_parts: tuple
    every: int
    #: steps already done when training began here (set by :meth:`steps`)
    start: int = field(default=0, init=False)

    @cached_property
    def key(self) -> str:
        return fingerprint(*self.key_parts)

    def steps(self, desc: str, progress: bool) -> tqdm:
        """Resume from the last checkpoint, if any (``self.start``: the steps it had done), and
        return the progress bar over the remaining steps."""
        self.start = self.resume()
        n = len(self.history)
        return tqdm(range(self.start, n), initial=self.start, total=n, desc=desc,
                    disable=not progress)  # fmt: skip

    def state(self, done: int) -> dict:
        state = {
            "modules": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "gen": self.gen.get_state(),
            "rng": torch.get_rng_state(),
            "history": self.history[:done].clone(),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def resume(self) -> int:
        """Restore the last checkpoint, if there is one; return the number of steps it had done."""
        if self.path is None or not self.path.exists():
            return 0
        state, meta = load_state(self.path, self.key)
        done = int(meta["step"])
        for k, m in self.modules.items():
            m.load_state_dict(state["modules"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        self.gen.set_state(state["gen"])
        torch.set_rng_state(state["rng"])
        if self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
            self.ema.to(self.device)
        self.history[:done] = state["history"]
        return done

    def step_done(self, done: int) -> None:
        """Checkpoint (atomically) every ``every`` steps and after the last one."""
        if self.path is not None and (done % self.every == 0 or done == len(self.history)):
            save_state(self.path, self.state(done), self.key, {"step": done})


class FeatureDiffusion:
    """Conditional diffusion model p_theta(z | y) over features, trained on eq. 7 (seed 000).

    Parameters
    ----------
    config : DiffusionConfig, optional
        Hyper-parameters; the paper defaults when None.
    device : str or torch.device
        Where the denoiser is trained and run.
    random_state : int, optional
        Seed of the training run (weights, batches, t, noise, dropout). None: fresh entropy.
    progress : bool
        Show a tqdm bar during ``fit``.
    checkpoint : path, optional
        A safetensors file where ``fit`` keeps its training state (weights, optimiser, EMA, RNG
        states, losses) every ``checkpoint_every`` steps and at the end. A later ``fit`` on the
        same inputs, configuration and seed resumes from it and ends bit-identical to an
        uninterrupted fit on CPU; a checkpoint made from other inputs is refused (ValueError).
    checkpoint_every : int
        Optimiser steps between checkpoints.
    """

    def __init__(
        self,
        config: DiffusionConfig | None = None,
        device: str | torch.device = "cpu",
        random_state: int | None = 0,
        progress: bool = True,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 250,
    ) -> None:
        self.config = config if config is not None else DiffusionConfig()
        self.device = torch.device(device)
        self.random_state = random_state
        self.progress = progress
        self.checkpoint = _check_checkpoint_args(checkpoint, checkpoint_every)
        self.checkpoint_every = checkpoint_every

    @property
    def n_parameters_(self) -> int:
        """Number of trainable parameters of the denoiser."""
        self._check_fitted()
        return sum(p.numel() for p in self.denoiser_.parameters() if p.requires_grad)

    def _check_fitted(self) -> None:
        if not hasattr(self, "denoiser_"):
            raise RuntimeError("FeatureDiffusion is not fitted yet: call fit(Z, c) first")

    def fit(self, Z, c) -> FeatureDiffusion:
        """Train g_theta on features Z (N, m) conditioned on c (N,), in label units (eq. 7).

        Z and c are standardised (stats kept in ``z_mean_``, ``z_std_``, ``c_mean_``, ``c_std_``).
        """
        cfg, dev = self.config, self.device
        z0_all, y_all = _standardised_training_data(self, Z, c)
        N, m = z0_all.shape
        rows = 6 * m + cfg.hidden_dim * (6 * cfg.n_blocks + 4) + 6 * cfg.embed_dim
        _require_batch_memory(cfg.batch_size, rows, "diffusion training")
        self.scheduler_ = make_scheduler(cfg)
        abar = self.scheduler_.alphas_cumprod.to(dev, torch.float32)  # (T,), abar_{i+1} at i

        seed = _seed(self.random_state)
        gen = torch.Generator().manual_seed(seed)  # batches, t and eps (CPU: device independent)
        # weight init and dropout draw from torch's global RNG, seeded here
        with _seeded_global_rng(seed, dev):
            net = Denoiser(m, cfg.hidden_dim, cfg.n_blocks, cfg.embed_dim, cfg.dropout).to(dev)
            fused = dev.type in ("cpu", "cuda")  # fused AdamW: ~10x faster step on CPU
            opt = torch.optim.AdamW(
                net.parameters(), cfg.lr, weight_decay=cfg.weight_decay, fused=fused
            )
            ema = _make_ema(net.parameters(), cfg.ema_decay) if cfg.use_ema else None
            losses = torch.empty(cfg.n_steps)
            key = ("feature-diffusion", z0_all, y_all, asdict(cfg), seed, dev.type)
            parts = _TrainingParts(
                {"net": net}, {"opt": opt}, ema, gen, losses, dev,
                self.checkpoint, key, self.checkpoint_every,
            )  # fmt: skip
            bar = parts.steps("diffusion fit", self.progress)
            self.resumed_from_step_ = parts.start
            net.train()
            for step in bar:
                idx = torch.randint(N, (cfg.batch_size,), generator=gen).to(dev)  # (B,)
                t_index = torch.randint(cfg.timesteps, (cfg.batch_size,), generator=gen).to(dev)
                eps = torch.randn((cfg.batch_size, m), generator=gen).to(dev)  # (B, m)
                z0, abar_t = z0_all[idx], abar[t_index][:, None]  # (B, m), (B, 1)
                z_t = diffuse(z0, eps, abar_t)  # eq. 3, seed 000
                target = velocity(z0, eps, abar_t) if cfg.prediction == "v" else eps  # eq. 5
                loss = F.mse_loss(net(z_t, y_all[idx], t_index + 1), target)  # eq. 7, seed 000
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip > 0:
                    nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
                opt.step()
                if ema is not None:
                    ema.step(net.parameters())
                losses[step] = loss.detach().cpu()
                if (step + 1) % 50 == 0:
                    bar.set_postfix(loss=f"{losses[step - 49 : step + 1].mean().item():.4f}")
                parts.step_done(step + 1)
        net.eval()
        self.denoiser_ = net
        self.ema_ = ema
        self.ema_denoiser_ = None
        if ema is not None:
            self.ema_denoiser_ = copy.deepcopy(net)
            ema.copy_to(self.ema_denoiser_.parameters())
        self.alphas_cumprod_ = abar
        self.loss_history_ = losses.tolist()
        return self

    def sample(self, c, batch_size: int = 1024, random_state: int | None = None) -> np.ndarray:
        """Draw one feature vector per condition value in c (label units) -> (n, m) float32.

        Ancestral sampling from z_T ~ N(0, I) (eq. 12-13, 22) with the EMA denoiser when
        ``use_ema``; deterministic given ``random_state`` (and ``batch_size``).
        """
        self._check_fitted()
        c = _finite_1d(c, "c")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        net = self.ema_denoiser_ if self.ema_denoiser_ is not None else self.denoiser_
        net.eval()
        m, dev = self.n_features_in_, self.device
        gen = torch.Generator().manual_seed(_seed(random_state))
        y = torch.as_tensor((c - self.c_mean_) / self.c_std_, dtype=torch.float32, device=dev)
        out = [np.empty((0, m), dtype=np.float32)]
        with torch.no_grad():
            for start in range(0, len(c), batch_size):
                y_b = y[start : start + batch_size]  # (b,)
                z_T = torch.randn((len(y_b), m), generator=gen).to(dev)  # (b, m)

                def predict(z_t: Tensor, t_index: int, y_b: Tensor = y_b) -> Tensor:
                    t = torch.full((len(y_b),), t_index + 1, device=dev)  # paper step t
                    return net(z_t, y_b, t)  # (b, m)

                z0 = reverse_process(
                    predict, z_T, self.alphas_cumprod_, self.config.prediction, gen
                )
                out.append(z0.cpu().numpy())
        Z = np.concatenate(out) * self.z_std_ + self.z_mean_  # un-standardise, (n, m)
        return Z.astype(np.float32)
