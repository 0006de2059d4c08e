"""latentdiff: deep imbalanced regression with feature-space diffusion augmentation.

The public names, imported on first use (``import latentdiff`` stays light)::

    from latentdiff import LatentDiffSampler, SMOTER, SMOGN, LatentDiffPipeline
    from latentdiff import LatentDiffRegressor, load_dataset, make_encoder, METHODS
    from latentdiff import LDMLRSampler, LDMLRClassifier, load_model  # classes (seed 002)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> the module that defines it
_HOMES = {
    "LatentDiffSampler": "latentdiff.samplers",
    "LDMLRSampler": "latentdiff.samplers",
    "LDMLRClassifier": "latentdiff.classification.classifier",
    "load_model": "latentdiff.estimator",
    "SMOTER": "latentdiff.samplers",
    "SMOGN": "latentdiff.samplers",
    "LatentDiffPipeline": "latentdiff.pipeline",
    "LatentDiffRegressor": "latentdiff.estimator",
    "load_dataset": "latentdiff.data.registry",
    "make_encoder": "latentdiff.encoders",
    "METHODS": "latentdiff.methods",
    "get_method": "latentdiff.methods",
    "run_bench": "latentdiff.bench",
    "BenchConfig": "latentdiff.settings",
    "DataConfig": "latentdiff.settings",
    "DiffusionConfig": "latentdiff.settings",
    "GANConfig": "latentdiff.settings",
    "HeadConfig": "latentdiff.settings",
    "SamplerConfig": "latentdiff.settings",
    "TrainConfig": "latentdiff.settings",
    "SettingError": "latentdiff.params",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'latentdiff' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
