"""What the sampler asks of any label-conditioned feature generator p(z | c), trained or not.

:class:`latentdiff.samplers.LatentDiffSampler` fits a generator on features ``Z`` (N, m) and
their conditions ``c`` (N,) (bin labels), draws features for a condition per row, and, when
the generator is trained by optimisation, keeps its training checkpoints, reports its losses
and exports it for another fit to start from (CoDSA's transfer). The two kinds:

* trained (``trains = True``): the diffusion model and the GAN, on the training loop of
  :class:`latentdiff.generators.base.FeatureGenerator`; they have ``loss_summary_``,
  ``transfer_`` and ``resumed_from_step_`` after ``fit`` and an :meth:`export`;
* estimated (``trains = False``): the per-bin statistics of
  :class:`latentdiff.generators.empirical.BinnedGenerator` (``gaussian``, ``interp``), fitted in
  one pass over the features: no loss, no checkpoint, nothing to export or fine-tune. Their
  :meth:`export` refuses, naming why, and the sampler and the methods refuse a pretrained
  generator (``generator_from``) for them before any work.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..validation import check_labels


class ConditionalGenerator(ABC):
    """A conditional generator p(z | c) over feature vectors: ``fit(Z, c)`` then
    ``sample(c, random_state=...)``, deterministic given the seeds."""

    #: names the generator in messages, checkpoint keys and exports
    name: ClassVar[str]
    #: its typed settings (:mod:`latentdiff.settings`)
    config_class: ClassVar[type]
    #: trained by optimisation: it has a loss history, training checkpoints and an export
    trains: ClassVar[bool] = True

    @abstractmethod
    def fit(self, Z, c) -> ConditionalGenerator:
        """Fit on features ``Z`` (N, m) conditioned on ``c`` (N,), in label units."""

    @abstractmethod
    def sample(self, c, batch_size: int = 1024, random_state: int | None = None) -> np.ndarray:
        """One feature vector per condition value in ``c`` -> (n, m) float32; deterministic
        given ``random_state`` (None: fresh entropy)."""

    def iter_sample(self, c, batch_size: int = 1024, random_state: int | None = None):
        """:meth:`sample` in pieces, for generation to disk (``LatentDiffSampler.generate_to``):
        the rows of ``sample(c, batch_size, random_state)`` in order. This default yields them
        all at once (generators whose draws are not made batch by batch); the trained ones
        (:class:`~latentdiff.generators.base.FeatureGenerator`) yield one batch at a time."""
        yield self.sample(c, batch_size, random_state)

    def _check_and_standardise(self, Z, c) -> tuple[np.ndarray, np.ndarray]:
        """Check features Z (N, m) and conditions c (N,) and keep the features' per-dimension
        mean and std (floored at 1e-6) in ``z_mean_`` / ``z_std_``: returns (Z standardised,
        float64; c checked)."""
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] < 1:
            raise ValueError(f"Z must be a 2-D array of shape (n_samples, m), got shape {Z.shape}")
        if not np.all(np.isfinite(Z)):
            raise ValueError(f"Z has {int((~np.isfinite(Z)).sum())} non-finite value(s)")
        c = check_labels(c, "c", allow_empty=True)
        if len(c) != len(Z):
            raise ValueError(f"Z and c have different lengths: {len(Z)} vs {len(c)}")
        if len(Z) < 2:
            raise ValueError(f"at least 2 samples are needed to fit, got {len(Z)}")
        self.n_features_in_ = Z.shape[1]
        self.z_mean_ = Z.mean(axis=0)
        self.z_std_ = np.maximum(Z.std(axis=0), 1e-6)
        return (Z - self.z_mean_) / self.z_std_, c

    @abstractmethod
    def export(self, path, metadata: dict | None = None) -> Path:
        """Write the fitted generator for a later fit to start from."""
