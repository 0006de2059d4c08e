"""What a benchmark run keeps for the feature-quality analysis (seed 000, appendix C): one
safetensors file per (method, seed), ``analysis/seed-S/METHOD.safetensors`` in the run directory.

Every method's file holds its test predictions and the true test labels (``test_pred``,
``test_true``, float64: the hexbin of Figure 4 and its R^2). A LatentDiff-family method's file
(latentdiff, latentgan, latentdiff-gaussian, latentdiff-interp, pogdiff, latentdiff-tuned and
their ``+`` combinations) also holds

* ``real_z`` (float32), ``real_y`` (float64), ``real_bin`` (int64): a sample of the real
  training features the generator was fitted on, their labels and generation bins;
* ``syn_z``, ``syn_y``, ``syn_bin``: a sample of the accepted synthetic features (after the
  gate), their labels (the bin's label) and generation bins;
* ``test_z``, ``test_y``, ``test_bin``: a sample of the held-out real features (the test split
  through the same encoder): the reference a synthetic feature is compared against, what a
  generator drawing new real features would score;

and in its metadata the generation bin edges and labels, the full per-bin counts of real,
accepted synthetic and held-out rows, the evaluation bins' shot regions (``regions``), the cap
and the seed.

**The sample.** At most ``cap`` rows per side (real, synthetic, held-out real;
``BenchConfig.analysis_rows``), balanced over generation bins (:func:`bin_quota`): every bin
keeps all its rows up to a common level ``L``, the largest that keeps the total within the cap,
the rows of a larger bin drawn uniformly without replacement. Rare bins are therefore kept whole
(their per-bin statistics are the point of the analysis). The draw uses its own generators,
one per side, seeded by the run's seed: keeping the sample changes no other random number of the
run, so results are the same with or without it, and the real and held-out samples of a seed
are the same for every method on the same network (they share one reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import load_tensors, save_tensors

#: the sample's own random streams: (this constant, the run's seed, 0 / 1 / 2 for the real,
#: synthetic and held-out side)
SAMPLE_STREAM = 13
#: rows kept per side by default (``BenchConfig.analysis_rows``)
DEFAULT_ROWS = 2000
#: the file format written in the metadata
FORMAT = 1


def bin_quota(counts, cap: int) -> np.ndarray:
    """Rows to keep per bin: ``min(count, L)`` with ``L`` the largest level whose total is at
    most ``cap`` (every bin kept whole when the counts sum to at most ``cap``)."""
    counts = np.asarray(counts, dtype=np.int64)
    if cap < 0:
        raise ValueError(f"the cap must be >= 0, got {cap}")
    if counts.sum() <= cap:
        return counts.copy()
    lo, hi = 0, int(counts.max())  # sum(min(c, lo)) <= cap < sum(min(c, hi))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if np.minimum(counts, mid).sum() <= cap:
            lo = mid
        else:
            hi = mid
    return np.minimum(counts, lo)


def balanced_rows(bins: np.ndarray, n_bins: int, cap: int, rng: np.random.Generator):
    """Sorted row indices of a :func:`bin_quota` sample of rows whose bins are ``bins``."""
    bins = np.asarray(bins, dtype=np.int64)
    quota = bin_quota(np.bincount(bins, minlength=n_bins), cap)
    keep = []
    for b in np.flatnonzero(quota):
        rows = np.flatnonzero(bins == b)
        keep.append(rows if quota[b] == rows.size else rng.choice(rows, quota[b], replace=False))
    return np.sort(np.concatenate(keep)) if keep else np.empty(0, np.int64)


def _rows_of(Z, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of an array or of a :class:`~latentdiff.featurefile.FeatureFile`, float32."""
    if hasattr(Z, "rows"):  # a FeatureFile (streamed synthetic features)
        out = Z.rows(idx) if idx.size else np.empty((0, Z.shape[1]), np.float32)
    else:
        out = np.asarray(Z)[idx]
    return np.asarray(out, dtype=np.float32)


@dataclass
class FeatureSample:
    """A LatentDiff-family run's real and synthetic feature sample (see the module text)."""

    real_z: np.ndarray
    real_y: np.ndarray
    real_bin: np.ndarray
    syn_z: np.ndarray
    syn_y: np.ndarray
    syn_bin: np.ndarray
    test_z: np.ndarray
    test_y: np.ndarray
    test_bin: np.ndarray
    meta: dict = field(default_factory=dict)

    @classmethod
    def take(cls, Z_real, y_real, Z_syn, y_syn, bins, bin_labels, cap: int, seed: int,
             regions=None, generator: str | None = None, Z_test=None,
             y_test=None) -> FeatureSample:  # fmt: skip
        """The sample of ``cap`` rows per side (``Z_test``, ``y_test``: held-out real features,
        none when not given; test labels outside the bins' range go to the end bins);
        ``bins`` (a :class:`~latentdiff.binning.Bins`):
        the generation bins, ``bin_labels`` the label each conditions on; ``regions`` (the data
        set's :class:`~latentdiff.binning.ShotRegions`): each generation bin's shot region is
        the region most of its real training rows are in (:func:`latentdiff.tuning.bin_regions`,
        on all the rows, not the sample), None for an empty bin."""
        from ..tuning import bin_regions

        # one stream per side: the real and held-out draws of a seed do not depend on how many
        # synthetic rows a method made, so methods on one network share its reference
        rng_real, rng_syn, rng_test = (np.random.default_rng((SAMPLE_STREAM, int(seed), side))
                                       for side in range(3))  # fmt: skip
        y_real = np.asarray(y_real, dtype=np.float64).reshape(-1)
        y_syn = np.asarray(y_syn, dtype=np.float64).reshape(-1)
        b_real = bins.assign(y_real)
        b_syn = bins.assign(y_syn) if y_syn.size else np.empty(0, np.int64)
        r = balanced_rows(b_real, bins.n_bins, cap, rng_real)
        s = balanced_rows(b_syn, bins.n_bins, cap, rng_syn)
        if Z_test is None:
            Z_test, y_test = np.empty((0, np.shape(Z_real)[1]), np.float32), np.empty(0)
        y_test = np.asarray(y_test, dtype=np.float64).reshape(-1)
        b_test = bins.assign(y_test) if y_test.size else np.empty(0, np.int64)
        t = balanced_rows(b_test, bins.n_bins, cap, rng_test)
        meta = {
            "format": FORMAT,
            "cap": int(cap),
            "seed": int(seed),
            "generator": generator,
            "bin_edges": bins.edges.tolist(),
            "bin_labels": np.asarray(bin_labels, dtype=np.float64).tolist(),
            "real_counts": np.bincount(b_real, minlength=bins.n_bins).tolist(),
            "syn_counts": np.bincount(b_syn, minlength=bins.n_bins).tolist(),
            "test_counts": np.bincount(b_test, minlength=bins.n_bins).tolist(),
            "bin_regions": None
            if regions is None
            else [None if r is None else str(r)
                  for r in bin_regions(b_real, regions.of(y_real), bins.n_bins)],
        }  # fmt: skip
        return cls(_rows_of(Z_real, r), y_real[r], b_real[r], _rows_of(Z_syn, s), y_syn[s],
                   b_syn[s], _rows_of(Z_test, t), y_test[t], b_test[t], meta)  # fmt: skip

    def summary(self) -> dict:
        """What ``runs.json`` records of it."""
        return {
            "real_rows": int(self.real_y.size),
            "real_total": int(sum(self.meta["real_counts"])),
            "synthetic_rows": int(self.syn_y.size),
            "synthetic_total": int(sum(self.meta["syn_counts"])),
            "test_rows": int(self.test_y.size),
            "cap": self.meta["cap"],
        }


TENSORS = ("real_z", "real_y", "real_bin", "syn_z", "syn_y", "syn_bin", "test_z", "test_y",
           "test_bin")  # fmt: skip


def sample_path(out: Path, method: str, seed: int) -> Path:
    """Where a (method, seed)'s analysis file lies in a run directory."""
    return Path(out) / "analysis" / f"seed-{int(seed)}" / f"{method}.safetensors"


def save_analysis_file(path: Path, test_pred, test_true, sample: FeatureSample | None,
                       extra: dict) -> Path:  # fmt: skip
    """Write a (method, seed)'s file: predictions, and the feature sample when there is one."""
    tensors = {  # copies: a data set's label array may be read-only, which torch warns about
        "test_pred": np.array(test_pred, dtype=np.float64),
        "test_true": np.array(test_true, dtype=np.float64),
    }
    meta = {"format": FORMAT, **extra}
    if sample is not None:
        tensors.update({k: getattr(sample, k) for k in TENSORS})
        meta["sample"] = sample.meta
    return save_tensors(path, tensors, meta)


@dataclass
class AnalysisFile:
    """A (method, seed)'s analysis file read back."""

    test_pred: np.ndarray
    test_true: np.ndarray
    sample: FeatureSample | None
    meta: dict

    @classmethod
    def read(cls, path: Path) -> AnalysisFile:
        tensors, meta = load_tensors(path)
        arrays = {k: v.numpy() for k, v in tensors.items()}
        missing = {"test_pred", "test_true"} - set(arrays)
        if missing or meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a latentdiff analysis file (format {FORMAT})")
        sample = None
        if "sample" in meta:
            if not set(TENSORS) <= set(arrays):
                raise ValueError(f"{path}: the feature sample is incomplete")
            sample = FeatureSample(**{k: arrays[k] for k in TENSORS}, meta=meta["sample"])
        return cls(arrays["test_pred"], arrays["test_true"], sample, meta)
