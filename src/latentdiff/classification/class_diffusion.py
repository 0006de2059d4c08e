"""The class-conditional feature diffusion of LDMLR (seed 002, sec. 3.3): eps_theta(z_t, t, y)
trained on eq. 10 and sampled by eq. 11 (DDIM's step at eta = 1), on the project's generator base.

It is :class:`latentdiff.generators.diffusion.FeatureDiffusion` with two changes: the condition
is a class index embedded by ``LayerNorm(Embedding(y))`` (the regression model's scalar-label
MLP is left as it is), and conditions are class indices 0..C-1, never standardised. The
settings are :class:`latentdiff.settings.DiffusionConfig`; :data:`LDMLR_DIFFUSION` holds seed
002's choices fitted to a CPU.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..generators.diffusion import Denoiser, FeatureDiffusion

#: seed 002, sec. 3.3 / 4.1: epsilon prediction (eq. 10) on DDPM's linear beta schedule (that of
#: the DDIM paper it follows), sampled by eq. 11 with sigma_t at its eta = 1 value, where eq. 11
#: is DDPM's ancestral step (Song et al., 2021, sec. 4.1): the ``ddpm`` sampler over all T steps.
#: Seed 002 takes T = 1,000 and 500 reverse steps on a GPU; here T = 50 (the project's chain).
#: Measured on 3 Gaussian classes (docs/ldmlr-plan.md): eta = 0 (deterministic DDIM, the
#: ``ddim`` sampler) with epsilon prediction gave samples 2-10x too spread (T = 50 or 1,000,
#: 10-500 steps), eta = 1 the right spread.
LDMLR_DIFFUSION: dict = {
    "prediction": "epsilon",
    "scheduler": "ddpm",
    "schedule": "linear",
    "timesteps": 50,
    "sampling_steps": None,
    # seed 002, sec. 4.1: the diffusion model is trained for 200 epochs with Adam at 1e-3
    "max_epochs": 200,
    "lr": 1e-3,
}


class ClassFeatureDiffusion(FeatureDiffusion):
    """p_theta(z | y) over features for class indices y in 0..n_classes-1 (seed 002, eq. 9-11).

    ``fit(Z, c)`` and ``sample(c)`` take class indices (integers; the data layer maps labels to
    them). ``n_classes`` None takes ``max(c) + 1`` at fit time. Transfer (``init_from``) is not
    available for class conditions.
    """

    name = "class-feature-diffusion"

    def __init__(self, config=None, *, n_classes: int | None = None, **kwargs) -> None:
        if config is None:
            config = dict(LDMLR_DIFFUSION)
        if kwargs.get("init_from") is not None:
            raise ValueError("a class-conditional diffusion cannot start from a pretrained one")
        super().__init__(config, **kwargs)
        if n_classes is not None and (
            isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2
        ):
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        self.n_classes = n_classes

    def _class_indices(self, c) -> np.ndarray:
        c = np.asarray(c)
        if c.ndim != 1:
            raise ValueError(f"class indices must be 1-D, got shape {c.shape}")
        if c.size and (
            not np.issubdtype(c.dtype, np.number)
            or np.any(c != np.round(c))
            or c.min() < 0
            or (self.n_classes_ is not None and c.max() >= self.n_classes_)
        ):
            top = "" if self.n_classes_ is None else f"..{self.n_classes_ - 1}"
            raise ValueError(f"conditions must be class indices 0{top}, got values such as "
                             f"{c[:5].tolist()}")  # fmt: skip
        return c.astype(np.float64)

    def _standardised(self, Z, c, source=None) -> tuple[Tensor, Tensor]:
        self.n_classes_ = self.n_classes
        c = self._class_indices(c)
        if self.n_classes_ is None:
            self.n_classes_ = max(int(c.max(initial=0)) + 1, 2)
        z, _ = super()._standardised(Z, c, source)
        self.c_mean_, self.c_std_ = 0.0, 1.0  # class indices are used as they are
        return z, torch.as_tensor(c, dtype=torch.float32, device=self.device)

    def _denoiser(self, m: int) -> Denoiser:
        return Denoiser(m, self.config, n_classes=self.n_classes_)

    def iter_sample(self, c, batch_size: int = 1024, random_state: int | None = None):
        self._check_fitted()
        return super().iter_sample(self._class_indices(c), batch_size, random_state)
