"""``LatentDiffSampler``: stages 3-6 of Fig. 2 (seed 000) as a sampler on feature vectors: fit
the label-conditioned generator, allocate by priority, generate at bin centres, gate, and return
originals first, then accepted synthetic features. ``generator="gan"`` puts the LatentGAN
baseline of seed 000, app. E in place of the diffusion model, with the same allocation and gate;
``"gaussian"`` and ``"interp"`` put a generator with nothing to train there (issue 11).

Its settings are those of :class:`latentdiff.settings.SamplerConfig` (checked there, by name,
before any work; ``generator`` among them) plus the seed and where to keep checkpoints.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import memory
from ..augment import (
    QualityGate,
    allocate,
    bin_mean_abs_error,
    interior_empty_bins,
    interpolate_errors,
    priority,
    uniform_allocation,
)
from ..binning import GenerationBins
from ..featurefile import FeatureFile, FeatureWriter
from ..generators import GENERATORS
from ..io import fingerprint
from ..settings import (
    DiffusionConfig,
    GANConfig,
    GaussianConfig,
    InterpConfig,
    PoGDiffConfig,
    SamplerConfig,
)
from .base import BaseRegressionSampler

#: peak bytes per generated value: the float64 un-standardised samples, the gate's float64
#: distances on them and the float32 result
_BYTES_PER_VALUE = 24


def _check_memory(n_total: int, m: int, ratio: float) -> None:
    """Refuse a synthetic count whose features would not fit in memory, naming the sizes."""
    memory.require(
        n_total * m * _BYTES_PER_VALUE,
        f"generating {n_total:,} synthetic features of dimension {m}",
        f"lower ratio (now {ratio})",
    )


def _check_disk(folder, n_total: int, m: int) -> None:
    """Refuse a stream folder without room for every synthetic feature (float32)."""
    where = Path(folder)
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    if n_total * m * 4 > free:
        raise ValueError(
            f"streaming {n_total:,} synthetic features of dimension {m} needs "
            f"{n_total * m * 4 / 2**30:.1f} GiB in stream_dir = {str(folder)!r}, which has "
            f"{free / 2**30:.1f} GiB free; lower ratio or choose another stream_dir"
        )


#: fitted generators by what their fit depends on, shared inside :func:`shared_generators`
_SHARED: dict | None = None


@contextmanager
def shared_generators(cache: dict):
    """Within it, a sampler whose generator would be fitted on the same features, conditions,
    generator settings, seed, start and device as one fitted before in ``cache`` takes that one
    instead of fitting it again: the same generator as a fresh fit on CPU, bit for bit (the fit
    is deterministic and sampling reads no state of the generator but its weights). The
    variants of one benchmark seed (``latentdiff[ratio=0.4]``, ``--grid table2``) share it."""
    global _SHARED
    before, _SHARED = _SHARED, cache
    try:
        yield
    finally:
        _SHARED = before


def _none_if_nan(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


class LatentDiffSampler(BaseRegressionSampler):
    """Conditional feature-space diffusion oversampler for imbalanced regression.

    Parameters
    ----------
    n_bins : int, default 20
        K, equal-width bins over the label range (eq. 14); conditions are bin centres. Labels
        with a resolution (ratings, counts) get fewer bins when K bins would be narrower than
        it, and discrete labels condition on a label of the bin that occurs
        (:class:`latentdiff.binning.GenerationBins`).
    ratio : float, default 0.2
        Synthetic samples to generate, as a fraction of the real count (before the gate).
    priority_weight : float, default 0.7
        lambda of eq. 9.
    error_scale : {"max", "none"}
        How the error term of eq. 9 is scaled (see :func:`latentdiff.augment.priority`).
    allocation : {"priority", "uniform"}, default "priority"
        How the ``ratio * N`` samples are spread over the bins: by the priority (eq. 9-10), or
        the same count in every bin with a real sample (seed 000, Table 2, "Uniform
        generation"; :func:`latentdiff.augment.uniform_allocation`).
    gate : bool, default True
        Apply the Mahalanobis quality gate (eq. 11).
    quantile, n_min, small_bin_rule
        Gate settings (q = 0.95, n_min = 5; see :class:`latentdiff.augment.QualityGate`).
    empty_bins : {"skip", "interp"}, default "skip"
        Generation bins with no training label. ``skip``: priority 0, nothing generated (eq. 9
        needs the bin's error). ``interp``: an empty bin *inside* the label range (a gap, with
        training labels on both sides; :func:`latentdiff.augment.interior_empty_bins`) enters
        eq. 9 with scarcity 1 and the error interpolated between its nearest non-empty
        neighbours (:func:`latentdiff.augment.interpolate_errors`); it is generated at its
        centre (the generator interpolates its condition) and gated by its neighbours' pooled
        statistics (``small_bin_rule``). Empty bins beyond the training labels do not exist:
        the bins span the training labels.
    diffusion : DiffusionConfig or dict, optional
        The diffusion model's settings (:class:`latentdiff.settings.DiffusionConfig`, Table 6
        defaults); used when ``generator="diffusion"``.
    generator : {"diffusion", "gan", "gaussian", "interp", "pogdiff"}, default "diffusion"
        The conditional feature generator (:data:`latentdiff.generators.GENERATORS`):
        LatentDiff's diffusion model, the LatentGAN baseline (seed 000, app. E;
        :class:`latentdiff.generators.gan.FeatureGAN`), or one estimated from each bin's real
        features with nothing to train: a per-bin Gaussian
        (:class:`latentdiff.generators.gaussian.FeatureGaussian`) or per-bin interpolation,
        SMOTE in feature space (:class:`latentdiff.generators.interp.FeatureInterp`).
    gan, gaussian, interp : settings or dict, optional
        The settings of those generators (:class:`latentdiff.settings.GANConfig`,
        :class:`~latentdiff.settings.GaussianConfig`, :class:`~latentdiff.settings.InterpConfig`);
        each is used when it is the ``generator``.
    pogdiff : PoGDiffConfig or dict, optional
        The settings of the ``pogdiff`` generator (:class:`latentdiff.settings.PoGDiffConfig`:
        the diffusion model's and PoGDiff's k, a1-a3; seed 003), used when it is the
        ``generator``.
    random_state : int, RandomState or None
    progress : bool
        Show progress bars.
    checkpoint_dir : path, optional
        A folder where a trained generator keeps its training state every ``checkpoint_every``
        steps (``diffusion.safetensors`` or ``gan.safetensors``; ``gaussian`` and ``interp``
        train nothing and keep nothing there); a later fit on the same inputs and
        settings resumes from it and ends bit-identical on CPU. A checkpoint made from other
        inputs is refused (see :class:`latentdiff.generators.diffusion.FeatureDiffusion`).
    checkpoint_every : int, default 250
        Generator optimiser steps between checkpoints.
    generator_from : path, optional
        An exported generator (:meth:`export_generator`) to fine-tune instead of training one
        from scratch (CoDSA's transfer, seed 001, app. A;
        :mod:`latentdiff.generators.transfer`); refused for ``gaussian`` and ``interp``, which
        have nothing trained to start from.
    fine_tune : {"full", "head"}, default "full"
        With ``generator_from``: fine-tune every parameter, or only the generator's
        ``head_parameters``.
    device : str or torch.device, default "cpu"
        Where the generator trains and samples and the gate measures its distances
        (:mod:`latentdiff.device`).
    stream_dir : path, optional
        Where :meth:`generate` writes the accepted synthetic features, a new ``.npy`` file per
        call (:meth:`generate_to`), instead of holding them in memory: it returns them as a
        :class:`latentdiff.featurefile.FeatureFile` that stage 7 reads per batch. The same rows
        as in memory; the caller removes the file (``FeatureFile.remove``).
    stream_chunk : int, default 4096
        With ``stream_dir``: rows generated and gated at a time (peak memory about
        ``stream_chunk * m * 24`` bytes beyond the generator's). The trained generators
        (diffusion, GAN) draw batch by batch; ``gaussian`` and ``interp`` draw every row at once
        and only the gate and the file are chunked.
    """

    def __init__(
        self,
        n_bins: int = 20,
        ratio: float = 0.2,
        priority_weight: float = 0.7,
        error_scale: Literal["max", "none"] = "max",
        gate: bool = True,
        quantile: float = 0.95,
        n_min: int = 5,
        small_bin_rule: Literal["pool", "accept", "reject"] = "pool",
        diffusion: DiffusionConfig | dict | None = None,
        random_state=None,
        progress: bool = False,
        generator: Literal["diffusion", "gan", "gaussian", "interp", "pogdiff"] = "diffusion",
        gan: GANConfig | dict | None = None,
        checkpoint_dir=None,
        checkpoint_every: int = 250,
        generator_from=None,
        fine_tune: Literal["full", "head"] = "full",
        gaussian: GaussianConfig | dict | None = None,
        interp: InterpConfig | dict | None = None,
        device="cpu",
        stream_dir=None,
        stream_chunk: int = 4096,
        pogdiff: PoGDiffConfig | dict | None = None,
        allocation: Literal["priority", "uniform"] = "priority",
        empty_bins: Literal["skip", "interp"] = "skip",
    ):
        self.n_bins = n_bins
        self.ratio = ratio
        self.priority_weight = priority_weight
        self.error_scale = error_scale
        self.gate = gate
        self.quantile = quantile
        self.n_min = n_min
        self.small_bin_rule = small_bin_rule
        self.diffusion = diffusion
        self.random_state = random_state
        self.progress = progress
        self.generator = generator
        self.gan = gan
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.generator_from = generator_from
        self.fine_tune = fine_tune
        self.gaussian = gaussian
        self.interp = interp
        self.device = device
        self.stream_dir = stream_dir
        self.stream_chunk = stream_chunk
        self.pogdiff = pogdiff
        self.allocation = allocation
        self.empty_bins = empty_bins

    @classmethod
    def from_config(cls, config: SamplerConfig, **params) -> LatentDiffSampler:
        """A sampler with the settings of ``config`` and the other ``params`` (``generator``,
        ``random_state``, ``progress``, ``checkpoint_dir``); a ``generator`` given here replaces
        the configuration's, and the configuration's None means the sampler's default."""
        values = {f.name: getattr(config, f.name) for f in fields(SamplerConfig)}
        if values["generator"] is None:
            del values["generator"]
        return cls(**{**values, **params})

    # --- fit --------------------------------------------------------------------------------
    def settings(self) -> SamplerConfig:
        """The sampler's settings, typed and checked (a SettingError names a wrong one)."""
        return SamplerConfig(**{f.name: getattr(self, f.name) for f in fields(SamplerConfig)})

    def _check_params(self, Z, y) -> None:
        settings = self.settings()
        if not isinstance(self.generator, str) or self.generator not in GENERATORS:
            raise ValueError(
                f"generator must be one of {', '.join(map(repr, GENERATORS))}, "
                f"got {self.generator!r}"
            )
        if settings.n_bins > y.size:
            raise ValueError(
                f"n_bins = {settings.n_bins} is more than the {y.size} samples: fewer samples than "
                f"bins leaves most bins empty and the gate without data; use n_bins <= {y.size}"
            )
        # before an hour of training, not after it
        n_total = int(round(settings.ratio * y.size))
        # streamed, a trained generator holds one chunk; gaussian / interp draw all at once
        streams = settings.stream_dir is not None and GENERATORS[self.generator].trains
        _check_memory(min(n_total, settings.stream_chunk) if streams else n_total, Z.shape[1],
                      settings.ratio)  # fmt: skip
        if settings.stream_dir is not None:
            _check_disk(settings.stream_dir, n_total, Z.shape[1])

    def fit(self, Z, y, sample_errors=None) -> LatentDiffSampler:
        """Fit the generator, the priorities and the gate on features ``Z`` and labels ``y``.

        ``sample_errors`` are the absolute training errors |h(f(x_i)) - y_i| of the regression
        model for eq. 8. Without them the sampler fits a ridge regression on ``Z`` (the linear head
        analogue) and uses its in-sample errors.
        """
        return super().fit(Z, y, sample_errors=sample_errors)

    def _fit(self, Z, y, sample_errors=None) -> LatentDiffSampler:
        settings = self.settings()
        rs = check_random_state(self.random_state)
        grid = GenerationBins.fit(y, settings.n_bins)  # eq. 14; the resolution and discrete rules
        self.bins_, self.bin_labels_ = grid.bins, grid.labels
        self.label_resolution_, self.discrete_labels_ = grid.resolution, grid.discrete
        b = self.bins_.assign(y)
        c = self.bin_labels_[b]  # bin centres for continuous labels
        yf = np.asarray(y, dtype=np.float64)
        if sample_errors is None:
            pred = Ridge(alpha=1.0).fit(Z, yf).predict(Z)
        else:
            e = np.asarray(sample_errors, dtype=np.float64).reshape(-1)
            if e.size != yf.size or not np.all(np.isfinite(e)) or np.any(e < 0):
                raise ValueError("sample_errors must be finite, >= 0, one per sample")
            pred = yf + e  # only |pred - y| enters eq. 8
        self.bin_counts_ = np.bincount(b, minlength=self.bins_.n_bins)
        self.bin_errors_ = bin_mean_abs_error(yf, pred, self.bins_)  # eq. 8
        self.fill_ = np.zeros(self.bins_.n_bins, dtype=bool)  # empty bins generated in
        if settings.empty_bins == "interp":
            self.fill_ = interior_empty_bins(self.bin_counts_)
            self.bin_errors_ = interpolate_errors(self.bin_errors_, self.bins_.centers, self.fill_)
        self.priority_ = priority(
            self.bin_errors_, self.bin_counts_, settings.priority_weight, settings.error_scale,
            fill=self.fill_,
        )  # eq. 9-10  # fmt: skip
        # what the ratio's samples are spread by: the priority, or evenly (Table 2's ablation)
        uniform = settings.allocation == "uniform"
        self.allocation_ = uniform_allocation(self.bin_counts_) if uniform else self.priority_
        model = GENERATORS[self.generator]
        config = getattr(settings, self.generator)  # each generator's settings part is its name
        seed = int(rs.randint(2**31 - 1))
        if model.trains:
            checkpoint = None
            if self.checkpoint_dir is not None:
                checkpoint = Path(self.checkpoint_dir) / f"{self.generator}.safetensors"
            generator = model(
                config,
                random_state=seed,
                progress=self.progress,
                checkpoint=checkpoint,
                checkpoint_every=settings.checkpoint_every,
                init_from=settings.generator_from,
                fine_tune=settings.fine_tune,
                device=self.device,
            )
        else:  # estimated in one pass: no progress, checkpoint or pretrained start to give it
            generator = model(config, random_state=seed)
        Zf = np.asarray(Z, dtype=np.float32)
        key = None
        if _SHARED is not None:  # what the fit depends on (the checkpoint only resumes it)
            start = (settings.generator_from, settings.fine_tune, str(self.device))
            cfg = None if config is None else config.to_dict()
            key = fingerprint(self.generator, cfg, seed, Zf, np.asarray(c), *start)
        self.generator_shared_ = key is not None and key in _SHARED
        t0 = time.perf_counter()
        if self.generator_shared_:
            self.generator_ = _SHARED[key]
        else:
            self.generator_ = generator.fit(Zf, c)
            if key is not None:
                _SHARED[key] = self.generator_
        self.generator_seconds_ = time.perf_counter() - t0  # the generator's own fit
        self.gate_ = None
        if settings.gate:
            gate = QualityGate(
                settings.quantile,
                settings.n_min,
                settings.small_bin_rule,
                progress=self.progress,
                device=self.device,
            )
            self.gate_ = gate.fit(Z, b, self.bins_.n_bins, empty=self.fill_)
        self._sample_seed = int(rs.randint(2**31 - 1))
        self.label_range_ = (float(np.min(y)), float(np.max(y)))
        self._n_real = y.size
        self._dtypes = (Z.dtype, y.dtype)
        return self

    def export_generator(self, path) -> Path:
        """Write the fitted generator for another fit to start from (``generator_from``), with
        this sampler's label range and bins (:meth:`FeatureGenerator.export`)."""
        check_is_fitted(self, "generator_")
        meta = {"label_range": list(self.label_range_), "bin_edges": self.bins_.edges.tolist()}
        return self.generator_.export(path, meta)

    # --- generate ---------------------------------------------------------------------------
    def sample(self, y, random_state=None) -> np.ndarray:
        """Synthetic features for labels ``y``, conditioned on their bins' labels (no gate):
        the bin centres, or for discrete labels a label that occurs in the bin."""
        check_is_fitted(self, "generator_")
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(y)):
            raise ValueError("labels to sample at must be finite")
        if y.size == 0:
            return np.empty((0, self.n_features_in_), dtype=self._dtypes[0])
        c = self.bin_labels_[self.bins_.assign(y)]
        seed = self._sample_seed if random_state is None else random_state
        return self.generator_.sample(c, random_state=seed).astype(self._dtypes[0], copy=False)

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        """Allocate ``ratio * N`` samples by priority, generate them at the bins' labels (bin
        centres; for discrete labels a label of the bin that occurs) and gate them.

        Returns the accepted synthetic ``(Z_syn, y_syn)``; ``report_`` holds the per-bin table.
        With ``stream_dir``, ``Z_syn`` is a :class:`~latentdiff.featurefile.FeatureFile` in a
        new file there (:meth:`generate_to`).
        """
        check_is_fitted(self, "generator_")
        if self.stream_dir is not None:
            Path(self.stream_dir).mkdir(parents=True, exist_ok=True)
            fd, path = tempfile.mkstemp(".npy", "synthetic-", self.stream_dir)
            os.close(fd)
            return self.generate_to(path, self.stream_chunk)
        bin_idx, y_syn = self._plan()
        _check_memory(bin_idx.size, self.n_features_in_, self.ratio)
        Z_syn = self.sample(y_syn) if bin_idx.size else np.empty((0, self.n_features_in_))
        keep = self._gate(Z_syn, bin_idx)
        self._report(bin_idx, keep)
        return Z_syn[keep].astype(self._dtypes[0], copy=False), y_syn[keep]

    def generate_to(self, path, chunk_size: int = 8192) -> tuple[FeatureFile, np.ndarray]:
        """:meth:`generate`, ``chunk_size`` rows at a time, the accepted rows appended to the
        ``.npy`` file ``path`` (float32): memory stays at one chunk whatever the count.

        Returns ``(FeatureFile(path), y_syn)``: the same rows, in the same order, and the same
        ``report_`` as :meth:`generate` (one RNG runs through the generator's batches in both;
        the gate decides row by row)."""
        check_is_fitted(self, "generator_")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        bin_idx, y_syn = self._plan()
        m = self.n_features_in_
        _check_disk(Path(path).parent, bin_idx.size, m)
        keep = np.zeros(bin_idx.size, dtype=bool)
        seed = self._sample_seed
        c = self.bin_labels_[self.bins_.assign(y_syn)] if y_syn.size else y_syn
        batches = self.generator_.iter_sample(c, random_state=seed)
        with FeatureWriter(path, m) as out:
            start, pending = 0, []
            for batch in batches:
                pending.append(batch)
                n = sum(len(b) for b in pending)
                if n >= chunk_size or start + n == bin_idx.size:
                    Z = np.concatenate(pending)
                    k = self._gate(Z, bin_idx[start : start + n])
                    out.append(Z[k])
                    keep[start : start + n] = k
                    start, pending = start + n, []
        self._report(bin_idx, keep)
        return FeatureFile(path), y_syn[keep]

    def _plan(self) -> tuple[np.ndarray, np.ndarray]:
        """The bin of each synthetic sample to generate (``ratio * N`` allocated by priority, or
        evenly with ``allocation="uniform"``) and its label, the bin's label."""
        n_total = int(round(self.ratio * self._n_real))  # ratio m/n of seed 000, Table 6
        requested = allocate(self.allocation_, n_total)
        bin_idx = np.repeat(np.arange(self.bins_.n_bins), requested)
        return bin_idx, self.bin_labels_[bin_idx]  # y_syn := c

    def _gate(self, Z_syn: np.ndarray, bin_idx: np.ndarray) -> np.ndarray:
        if self.gate_ is None:
            return np.ones(bin_idx.size, bool)
        return self.gate_.accept(Z_syn, bin_idx)

    def _report(self, bin_idx: np.ndarray, keep: np.ndarray) -> None:
        requested = np.bincount(bin_idx, minlength=self.bins_.n_bins)
        accepted = np.bincount(bin_idx[keep], minlength=self.bins_.n_bins)
        self.report_ = [
            {
                "bin": k,
                "center": float(self.bins_.centers[k]),
                "label": float(self.bin_labels_[k]),
                "n_real": int(self.bin_counts_[k]),
                "mean_abs_error": _none_if_nan(self.bin_errors_[k]),
                "priority": float(self.priority_[k]),
                "filled": bool(self.fill_[k]),
                "requested": int(requested[k]),
                "accepted": int(accepted[k]),
            }
            for k in range(self.bins_.n_bins)
        ]
        self.acceptance_rate_ = float(keep.mean()) if keep.size else None

    def fit_resample(self, Z, y, sample_errors=None) -> tuple[np.ndarray, np.ndarray]:
        """Originals first (unchanged), then the accepted synthetic samples. As in
        imbalanced-learn, ``sample_indices_`` lists the originals kept: all of them."""
        return super().fit_resample(Z, y, sample_errors=sample_errors)

    def _fit_resample(self, Z, y, sample_errors=None):
        self._fit(Z, y, sample_errors)
        Z_syn, y_syn = self.generate()
        Z_all = np.concatenate([Z, Z_syn.astype(Z.dtype, copy=False)])
        return Z_all, np.concatenate([y, y_syn]), np.arange(len(y))
