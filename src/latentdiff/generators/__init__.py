"""Label-conditioned feature generators p(z | c) by name: LatentDiff's diffusion model (seed 000),
the LatentGAN baseline (its app. E), both trained on one base (:mod:`latentdiff.generators.base`),
and two estimated from each bin's real features with nothing to train (issue 11,
:mod:`latentdiff.generators.empirical`): a per-bin Gaussian and per-bin interpolation (SMOTE in
feature space); and PoGDiff (seed 003), the diffusion model trained on a loss that borrows from
a neighbour's condition (:mod:`latentdiff.generators.pogdiff`). What the sampler asks of them
all: :mod:`latentdiff.generators.protocol`."""

from __future__ import annotations

from .base import FeatureGenerator
from .diffusion import FeatureDiffusion
from .empirical import BinnedGenerator
from .gan import FeatureGAN
from .gaussian import FeatureGaussian
from .interp import FeatureInterp
from .pogdiff import FeaturePoGDiff
from .protocol import ConditionalGenerator

GENERATORS: dict[str, type[ConditionalGenerator]] = {
    "diffusion": FeatureDiffusion,
    "gan": FeatureGAN,
    "gaussian": FeatureGaussian,
    "interp": FeatureInterp,
    "pogdiff": FeaturePoGDiff,
}

__all__ = [
    "GENERATORS",
    "BinnedGenerator",
    "ConditionalGenerator",
    "FeatureDiffusion",
    "FeatureGAN",
    "FeatureGaussian",
    "FeatureInterp",
    "FeaturePoGDiff",
    "FeatureGenerator",
]
