"""Samplers on a feature matrix and continuous labels, in imbalanced-learn's shape
(:mod:`latentdiff.samplers.base`): LatentDiff's feature generation (stages 3-6 of seed 000) and
the SMOTER / SMOGN baselines (seed 004); for class labels, LDMLR's class-conditional feature
diffusion (:class:`LDMLRSampler`, seed 002)."""

from .base import BaseRegressionSampler
from .class_conditional import LDMLRSampler
from .latentdiff import LatentDiffSampler
from .smoter import SMOGN, SMOTER, smogn, smoter

__all__ = [
    "SMOGN",
    "SMOTER",
    "BaseRegressionSampler",
    "LatentDiffSampler",
    "LDMLRSampler",
    "smogn",
    "smoter",
]
