"""Label-conditioned feature generators p(z | y) by name: LatentDiff's diffusion model (seed 000)
and the LatentGAN baseline (its app. E), on one base (:mod:`latentdiff.generators.base`)."""

from __future__ import annotations

from .base import FeatureGenerator
from .diffusion import FeatureDiffusion
from .gan import FeatureGAN

GENERATORS: dict[str, type[FeatureGenerator]] = {"diffusion": FeatureDiffusion, "gan": FeatureGAN}

__all__ = ["GENERATORS", "FeatureDiffusion", "FeatureGAN", "FeatureGenerator"]
