"""Where to generate and what to keep: priority allocation (eq. 8-10) and the Mahalanobis
quality gate (eq. 11) of seed 000. numpy + scipy; on a GPU (``device``) the gate's distances
of the synthetic features are computed there with torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .binning import Bins
from .progress import progress_bar
from .shrinkage import ShrunkGaussian

# --- priority (eq. 8-10) -----------------------------------------------------------------------


def bin_mean_abs_error(y_true, y_pred, bins: Bins) -> np.ndarray:
    """e_y: mean absolute training error of each bin (eq. 8); NaN for empty bins, shape (K,)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    err = np.abs(np.asarray(y_pred, dtype=np.float64) - y_true)
    b = bins.assign(y_true)
    n = np.bincount(b, minlength=bins.n_bins)
    s = np.bincount(b, weights=err, minlength=bins.n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def priority(
    errors,
    counts,
    weight: float = 0.7,
    error_scale: Literal["max", "none"] = "max",
    fill=None,
) -> np.ndarray:
    """P(y) over bins (eq. 9-10).

    P'(y) = lambda * e_y + (1 - lambda) * (1 - n_y / max n), normalised to sum 1.

    The paper adds an error in label units to a scarcity in [0, 1]. With ``error_scale="max"``
    (default) e_y is divided by its largest value over non-empty bins so both terms lie in [0, 1]
    and ``weight`` means the same on every data set; ``"none"`` keeps eq. 9 literally.
    Empty bins (no real feature to learn from or to gate against) get priority 0, except those
    marked in ``fill`` (a boolean mask, e.g. from :func:`interior_empty_bins`): they enter eq. 9
    with their count 0 (scarcity 1) and the finite error given for them in ``errors``.
    """
    if not 0 <= weight <= 1:
        raise ValueError(f"priority weight lambda must be in [0, 1], got {weight!r}")
    if error_scale not in ("max", "none"):
        raise ValueError(f"error_scale must be 'max' or 'none', got {error_scale!r}")
    e = np.asarray(errors, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    if e.shape != n.shape:
        raise ValueError(f"errors {e.shape} and counts {n.shape} differ in shape")
    present = n > 0
    if not present.any():
        raise ValueError("no bin has a training sample")
    if fill is not None:
        fill = np.asarray(fill, dtype=bool)
        if fill.shape != n.shape or np.any(fill & present):
            raise ValueError("fill must mark empty bins only, one flag per bin")
        if np.any(~np.isfinite(e[fill])) or np.any(e[fill] < 0):
            raise ValueError("a bin to fill needs a finite error >= 0")
        present = present | fill
    if np.any(~np.isfinite(e[present])) or np.any(e[present] < 0):
        raise ValueError("bin errors must be finite and >= 0 for every non-empty bin")
    e = np.where(present, e, 0.0)
    if error_scale == "max" and e.max() > 0:
        e = e / e.max()
    scarcity = 1.0 - n / n.max()
    p = np.where(present, weight * e + (1 - weight) * scarcity, 0.0)  # eq. 9
    if p.sum() <= 0:  # every present bin has zero error and maximal count: spread evenly
        p = present.astype(np.float64)
    return p / p.sum()  # eq. 10


def priority_sample_weights(p, bin_idx) -> np.ndarray:
    """Our reading of seed 000's "sample weighting" (Table 2; docs/methods.md): each synthetic
    sample's loss weighted by the priority P(y) of its bin (eq. 10), the weights of the loss
    eq. 24 says the priority allocation minimises, scaled to mean one over the samples so that
    the synthetic samples' total weight is unchanged. ``bin_idx``: each sample's bin."""
    p = np.asarray(p, dtype=np.float64)
    b = np.asarray(bin_idx, dtype=np.int64).reshape(-1)
    if b.size == 0:
        return np.empty(0)
    w = p[b]
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("priority sample weights need finite priorities >= 0, not all zero")
    return w / w.mean()


def uniform_allocation(counts) -> np.ndarray:
    """The allocation of "uniform generation" (seed 000, Table 2): the same share for every bin
    that has a real sample, 0 for an empty bin (nothing to gate against, as for the priority);
    :func:`allocate` turns it into counts, the remainder going to the lowest bins first."""
    n = np.asarray(counts, dtype=np.float64)
    present = n > 0
    if not present.any():
        raise ValueError("no bin has a training sample")
    return present / present.sum()


def interior_empty_bins(counts) -> np.ndarray:
    """Empty bins with a non-empty bin on each side: the gaps inside the label range, where a
    generator conditioned on a continuous label interpolates its condition (``empty_bins =
    "interp"``). Empty bins at either end lie beyond the training labels and are not marked."""
    n = np.asarray(counts)
    full = np.flatnonzero(n > 0)
    out = np.zeros(n.shape, dtype=bool)
    if full.size:
        out[full[0] : full[-1] + 1] = n[full[0] : full[-1] + 1] == 0
    return out


def interpolate_errors(errors, centers, fill) -> np.ndarray:
    """e_y (eq. 8) of the bins in ``fill``, which have no training error of their own, linearly
    interpolated in the label between the nearest non-empty bins' errors (NaN elsewhere kept)."""
    e = np.asarray(errors, dtype=np.float64).copy()
    x = np.asarray(centers, dtype=np.float64)
    fill = np.asarray(fill, dtype=bool)
    known = np.isfinite(e) & ~fill
    if fill.any():
        e[fill] = np.interp(x[fill], x[known], e[known])
    return e


def allocate(p, n_total: int) -> np.ndarray:
    """Integer sample counts per bin proportional to ``p`` that sum to ``n_total``
    (largest-remainder rounding)."""
    p = np.asarray(p, dtype=np.float64)
    if n_total < 0 or int(n_total) != n_total:
        raise ValueError(f"n_total must be a non-negative integer, got {n_total!r}")
    if np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError("p must be a probability vector")
    raw = p * int(n_total)
    out = np.floor(raw).astype(np.int64)
    rest = int(n_total) - int(out.sum())
    if rest > 0:
        order = np.argsort(-(raw - out), kind="stable")
        out[order[:rest]] += 1
    return out


# --- the quality gate (eq. 11) -----------------------------------------------------------------


@dataclass
class BinGate:
    """The shrunk Gaussian (mean and covariance) and the threshold tau_y of one bin."""

    stats: ShrunkGaussian
    tau: float
    n_real: int  # real samples the statistics come from
    bins_used: tuple[int, int]  # [lo, hi] bin range pooled
    #: the held-out (or in-sample) real distances tau is the quantile of: another quantile's
    #: threshold without refitting (:meth:`QualityGate.thresholds`)
    calibration: np.ndarray | None = None


class QualityGate:
    """Mahalanobis-distance gate of seed 000, eq. 11.

    d_M(z, y) = sqrt((z - mu_y)^T Sigma_y^-1 (z - mu_y)), accepted if d_M <= tau_y, the
    ``quantile`` of the distances of the bin's real features.

    * Sigma_y is the Ledoit-Wolf shrinkage estimate: with m-dimensional features and fewer than m
      samples in a bin the sample covariance is singular and eq. 11 is undefined.
    * tau_y is calibrated on *held-out* real distances (``calibration="cross"``, default): the
      bin's real features are split into ``n_folds`` folds and each fold is scored with statistics
      fitted on the others. In-sample distances are biased low when a bin has few samples for its
      dimension (the covariance fits its own points), which would reject most fresh samples of the
      very same distribution; held-out calibration accepts an unseen real feature with
      probability about q, which is what "the q-th percentile of real distances" should mean.
      ``"in-sample"`` keeps the literal reading.
    * Bins with fewer than ``n_min`` real samples (the paper fixes n_min = 5 but gives no rule):
      ``pool`` (default) widens the bin symmetrically to its neighbours until at least ``n_min``
      real samples are inside and uses their statistics; ``accept`` keeps every synthetic feature
      of such a bin; ``reject`` drops them all.

    ``device``: where :meth:`distances` computes d_M of the synthetic features, the N x m x m
    part (float64 either way). On "cpu" numpy does it; on a GPU torch does (the per-bin
    Ledoit-Wolf fits and their calibration distances stay on the CPU,
    :mod:`latentdiff.shrinkage`: K problems on the real features).
    """

    def __init__(
        self,
        quantile: float = 0.95,
        n_min: int = 5,
        small_bin_rule: Literal["pool", "accept", "reject"] = "pool",
        calibration: Literal["cross", "in-sample"] = "cross",
        n_folds: int = 5,
        progress: bool = False,
        device="cpu",
    ):
        if not 0 < quantile <= 1:
            raise ValueError(f"quantile must be in (0, 1], got {quantile!r}")
        if int(n_min) != n_min or n_min < 2:
            raise ValueError(f"n_min must be an integer >= 2, got {n_min!r}")
        if small_bin_rule not in ("pool", "accept", "reject"):
            raise ValueError(
                f"small_bin_rule must be pool, accept or reject, got {small_bin_rule!r}"
            )
        if calibration not in ("cross", "in-sample"):
            raise ValueError(f"calibration must be 'cross' or 'in-sample', got {calibration!r}")
        if int(n_folds) != n_folds or n_folds < 2:
            raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
        self.quantile = quantile
        self.n_min = int(n_min)
        self.small_bin_rule = small_bin_rule
        self.calibration = calibration
        self.n_folds = int(n_folds)
        self.progress = progress
        self.device = device

    @staticmethod
    def distance(Z, stats: ShrunkGaussian) -> np.ndarray:
        """d_M of each row of Z to the bin's shrunk Gaussian (eq. 11)."""
        return np.sqrt(stats.sq_distances(Z))

    def _calibration_distances(self, Zk: np.ndarray, stats: ShrunkGaussian) -> np.ndarray:
        """Distances of the bin's real features: in-sample, or each fold held out (at least two
        samples must remain to fit the others, so tiny pools fall back to leave-one-out)."""
        n = Zk.shape[0]
        if self.calibration == "in-sample" or n < 3:
            return self.distance(Zk, stats)
        folds = np.arange(n) % min(self.n_folds, n)  # deterministic, order of the rows
        out = np.empty(n)
        for f in np.unique(folds):
            held = folds == f
            out[held] = self.distance(Zk[held], ShrunkGaussian.fit(Zk[~held]))
        return out

    def fit(self, Z, bin_idx, n_bins: int, empty=None) -> QualityGate:
        """Per-bin statistics and thresholds of the bins with real features. ``empty``: a
        boolean mask of empty bins that get a gate as well (``empty_bins = "interp"``); with
        ``small_bin_rule = "pool"`` each is widened to its neighbours like a small bin (for a gap
        that pools both sides of it); with ``accept`` / ``reject`` its rule applies as to any
        bin with fewer than ``n_min`` real features.

        ``pool`` for an empty bin starts from its nearest non-empty bins below and above (the
        two sides of the gap, whatever their distance) and widens from there while fewer than
        ``n_min`` real features are inside."""
        Z = np.asarray(Z, dtype=np.float64)
        bin_idx = np.asarray(bin_idx)
        counts = np.bincount(bin_idx, minlength=n_bins)
        self.gates_: dict[int, BinGate] = {}
        todo = counts > 0
        if empty is not None:
            todo = todo | (np.asarray(empty, dtype=bool) & (counts == 0))
        full = np.flatnonzero(counts > 0)
        for k in progress_bar(np.flatnonzero(todo), "quality gate", self.progress):
            lo = hi = int(k)
            if counts[k] == 0 and self.small_bin_rule == "pool":
                # a gap: pool its nearest non-empty bins on both sides (what it interpolates)
                below, above = full[full < k], full[full > k]
                lo = int(below[-1]) if below.size else lo
                hi = int(above[0]) if above.size else hi
            if counts[lo : hi + 1].sum() < self.n_min:
                if self.small_bin_rule != "pool":
                    continue
                while counts[lo : hi + 1].sum() < self.n_min and (lo > 0 or hi < n_bins - 1):
                    lo, hi = max(lo - 1, 0), min(hi + 1, n_bins - 1)
                if counts[lo : hi + 1].sum() < 2:
                    continue
            Zk = Z[(bin_idx >= lo) & (bin_idx <= hi)]
            stats = ShrunkGaussian.fit(Zk)  # Ledoit-Wolf (scikit-learn's estimate)
            calibration = self._calibration_distances(Zk, stats)
            tau = float(np.quantile(calibration, self.quantile))
            self.gates_[int(k)] = BinGate(stats, tau, int(Zk.shape[0]), (lo, hi), calibration)
        self.counts_ = counts
        return self

    def distances(self, Z, bin_idx) -> np.ndarray:
        """d_M of each row to its bin's statistics (eq. 11); NaN where the bin has no gate (too
        few real samples for ``pool``, or none)."""
        Z = np.asarray(Z, dtype=np.float64)
        bin_idx = np.asarray(bin_idx)
        d = np.full(bin_idx.size, np.nan)
        for k in np.unique(bin_idx):
            g = self.gates_.get(int(k))
            if g is not None:
                m = bin_idx == k
                d[m] = self._device_distance(Z[m], g)
        return d

    def _device_distance(self, Z: np.ndarray, g: BinGate) -> np.ndarray:
        """:meth:`distance` of one bin's rows, on this gate's device (numpy on the CPU)."""
        import torch

        if torch.device(self.device).type == "cpu":
            return self.distance(Z, g.stats)
        return torch_distance(Z, g.stats, self.device)

    def accept_at(self, distances, bin_idx, quantile: float) -> np.ndarray:
        """The mask :meth:`accept` gives for distances from :meth:`distances`, with tau_y the
        ``quantile`` of the bin's calibration distances instead of this gate's own q: how the
        tuned method tries several q on one generated pool without refitting the gate."""
        if not 0 < quantile <= 1:
            raise ValueError(f"quantile must be in (0, 1], got {quantile!r}")
        return self._keep(distances, bin_idx, lambda g: float(np.quantile(g.calibration, quantile)))

    def _keep(self, distances, bin_idx, tau) -> np.ndarray:
        """d_M <= tau(gate) per bin; a bin without a gate is kept only when it is small and the
        rule is ``accept`` (the one rule of :meth:`accept` and :meth:`accept_at`)."""
        d, bin_idx = np.asarray(distances), np.asarray(bin_idx)
        keep = np.zeros(bin_idx.size, dtype=bool)
        for k in np.unique(bin_idx):
            m = bin_idx == k
            g = self.gates_.get(int(k))
            if g is None:
                small = self.counts_[k] < self.n_min if k < self.counts_.size else True
                keep[m] = small and self.small_bin_rule == "accept"
                continue
            keep[m] = d[m] <= tau(g)
        return keep

    def accept(self, Z, bin_idx) -> np.ndarray:
        """Boolean mask of accepted synthetic features."""
        Z = np.asarray(Z, dtype=np.float64)
        bin_idx = np.asarray(bin_idx)
        dims = {g.stats.mean.shape[0] for g in self.gates_.values()}
        if Z.ndim != 2 or (dims and Z.shape[1] not in dims):
            raise ValueError(
                f"the gate was fitted on {dims.pop() if dims else '?'} features, got features of "
                f"shape {Z.shape}"
            )
        if bin_idx.shape != (Z.shape[0],):
            raise ValueError(
                f"need one bin index per feature row ({Z.shape[0]}), got {bin_idx.shape}"
            )
        return self._keep(self.distances(Z, bin_idx), bin_idx, lambda g: g.tau)


def torch_distance(Z, stats: ShrunkGaussian, device) -> np.ndarray:
    """:meth:`QualityGate.distance` (eq. 11) computed with torch in float64 on ``device``: the
    same two forms as :meth:`ShrunkGaussian.sq_distances` (precision, or Woodbury's)."""
    import torch

    dev = torch.device(device)

    def t(a):
        return torch.as_tensor(np.asarray(a, dtype=np.float64), device=dev)

    V = t(Z) - t(stats.mean)  # (N, m)
    if stats.precision is not None:
        d2 = ((V @ t(stats.precision)) * V).sum(dim=1)
    else:
        W = V @ t(stats.rows).T  # (N, n)
        d2 = ((V * V).sum(dim=1) - ((W @ t(stats.inner)) * W).sum(dim=1)) / stats.a
    return d2.clamp_min(0.0).sqrt().cpu().numpy()  # eq. 11
