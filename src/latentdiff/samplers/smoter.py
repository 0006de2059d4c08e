"""SMOTER and SMOGN: resample a regression training set towards its rare labels (the
"synthetic samples" baselines of seed 004, sec. 4 and appendix B).

* Relevance ``phi(y)`` in [0, 1] from the box-plot extremes (:mod:`latentdiff.samplers.relevance`).
  When the box plot degenerates (every sample rare, or control points that tie) the median rule
  replaces it; when nothing is rare, or everything still is, the set comes back unchanged
  (:class:`SMOTER`, "Degenerate relevance").
* Rare vs frequent (Torgo et al. 2013, sec. 3; Branco et al. 2017, Alg. 1): a sample is rare when
  ``phi(y) >= rel_threshold`` (0.5). Sorted by label, maximal runs of rare or of frequent samples
  are the "bumps"; each bump is resampled on its own.
* Amounts: ``"balance"`` resizes every bump to ``round(n / n_bumps)`` samples, ``"extreme"`` to
  ``b^2 / n_i`` rescaled to keep ``n`` (Branco et al. 2017, sec. 3; UBL's ``C.perc``). Explicit
  ``over`` / ``under`` multiply the size of every rare / frequent bump instead.
* Oversampling (Torgo et al. 2013, Alg. 2 "SMOTER"): seed from the bump, one of its ``k``
  nearest neighbours *within the bump* (Euclidean on X), ``x = x_s + r (x_n - x_s)``,
  ``r ~ U(0, 1)``, label weighted by the inverse distances of x to the seed and the neighbour.
* SMOGN (Branco et al. 2017, Alg. 2): if the neighbour lies closer than ``maxD`` = half the median
  distance of the seed to its k neighbours, interpolate as SMOTER; otherwise perturb the seed's
  features *and* label by ``N(0, (sd * min(maxD, pert))^2)``, ``sd`` the per-column standard
  deviation over the bump.
* Undersampling: a bump that shrinks keeps a uniform draw without replacement of its samples.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from sklearn.neighbors import NearestNeighbors

from .base import BaseRegressionSampler
from .relevance import RelevanceWarning, TiedControlPointsError, relevance

Sampling = Literal["balance", "extreme"]

__all__ = ["SMOGN", "SMOTER", "smogn", "smoter"]


# --- bumps and amounts (Branco et al. 2017 sec. 3, Alg. 1; Torgo et al. 2013 sec. 3) -----------


def _targets(sizes: np.ndarray, rare: np.ndarray, sampling: Sampling, over, under) -> np.ndarray:
    n, nb = sizes.sum(), sizes.size
    if over is not None or under is not None:
        # explicit ratios: every rare bump times `over`, every frequent bump times `under`
        ratio = np.where(rare, 1.0 if over is None else over, 1.0 if under is None else under)
    elif sampling == "balance":
        # every bump to the mean bump size b = n / n_bumps (smogn: s_perc = b / n_i)
        ratio = round(n / nb) / sizes
    elif sampling == "extreme":
        # bump i to b^2 / n_i, rescaled so the total stays n (UBL / smogn "extreme")
        b = round(n / nb)
        obj = b**2 / sizes
        obj = np.round(obj * (nb * b / obj.sum()), 2)
        ratio = np.round(obj / sizes, 1)
    else:
        raise ValueError(f"sampling must be 'balance' or 'extreme', got {sampling!r}")
    # floor as smogn does (int(perc * n) kept; int(n * (perc - 1)) new); the epsilon only stops
    # a product such as 4 * (7 / 4) = 6.999... from losing a sample
    return np.floor(sizes * ratio + 1e-9).astype(np.int64)


# --- relevance with its fallback ----------------------------------------------------------------


def _box_plot_relevance(y, coef, extremes, rel_threshold) -> tuple[np.ndarray, str]:
    """The box-plot relevance, or the median rule where the box plot degenerates: its control
    points tie, or it marks every sample rare. Returns the relevance and the rule used."""
    try:
        rel = relevance(y, coef=coef, extremes=extremes)
    except TiedControlPointsError as e:
        why = f"the box-plot relevance is undefined ({e})"
    else:
        if not np.all(rel >= rel_threshold):
            return rel, "boxplot"
        why = (
            f"the box-plot relevance marks every sample rare (relevance >= rel_threshold="
            f"{rel_threshold}): its whisker ends lie on the bulk of the labels"
        )
    warnings.warn(
        f"{why}; using the median rule instead (relevance 0 at the median, 1 at the extreme "
        "labels; relevance_rule_ = 'median')",
        RelevanceWarning,
        stacklevel=5,
    )
    return relevance(y, extremes=extremes, rule="median"), "median"


# --- the resamplers -----------------------------------------------------------------------------


def _check_params(rel_threshold, k, over, under, pert) -> None:
    if not 0 < rel_threshold <= 1:
        raise ValueError(f"rel_threshold must be in (0, 1], got {rel_threshold!r}")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if over is not None and not over >= 1:
        raise ValueError(f"over (size ratio of each rare bump) must be >= 1, got {over!r}")
    if under is not None and not 0 < under <= 1:
        raise ValueError(
            f"under (kept fraction of each frequent bump) must be in (0, 1], got {under!r}"
        )
    if pert is not None and not 0 < pert <= 1:
        raise ValueError(f"pert must be in (0, 1], got {pert!r}")


def _synthesise(Xb, yb, n_new, k, pert, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n_new`` synthetic rows from one bump; SMOTER when ``pert`` is None, else SMOGN."""
    nb = len(yb)
    if nb < 2:
        raise ValueError(
            f"a bump to oversample (labels {yb.min():.6g}..{yb.max():.6g}) has {nb} sample(s); "
            "at least 2 are needed to find a neighbour: lower k, change rel_threshold or pass "
            "a relevance array"
        )
    kk = min(int(k), nb - 1)  # UBL reduces k for small bumps
    nn = NearestNeighbors(n_neighbors=kk).fit(Xb)
    dist, nbr = nn.kneighbors()  # no query -> a point is not its own neighbour
    # every seed is used n_new // nb times, n_new % nb further seeds drawn without replacement
    # (smogn over_sampling: x_synth per case plus n_synth random cases)
    reps, extra = divmod(int(n_new), nb)
    seeds = np.concatenate([np.repeat(np.arange(nb), reps), rng.choice(nb, extra, replace=False)])
    pick = rng.integers(0, kk, size=seeds.size)
    r = rng.random(seeds.size)
    nb_idx = nbr[seeds, pick]
    xs, xn = Xb[seeds], Xb[nb_idx]
    ys, yn = yb[seeds], yb[nb_idx]
    X_new = xs + r[:, None] * (xn - xs)
    # Torgo et al. 2013, Alg. 2: y = (d2 y_s + d1 y_n) / (d1 + d2) with d1 = |x - x_s|,
    # d2 = |x - x_n|; on the segment d1 = r D, d2 = (1 - r) D, i.e. y = y_s + r (y_n - y_s).
    # A neighbour at distance 0 gives d1 = d2 = 0: take the mean of the two labels.
    gap = dist[seeds, pick]
    y_new = np.where(gap > 0, ys + r * (yn - ys), 0.5 * (ys + yn))
    if pert is not None:
        # Branco et al. 2017, Alg. 2: maxD = median distance to the k neighbours / 2
        max_d = np.median(dist, axis=1) / 2.0
        unsafe = ~(gap < max_d[seeds])
        if unsafe.any():
            t = np.minimum(max_d[seeds[unsafe]], pert)[:, None]
            sd_x = Xb.std(axis=0)
            sd_y = yb.std()
            m = int(unsafe.sum())
            X_new[unsafe] = xs[unsafe] + rng.standard_normal((m, Xb.shape[1])) * sd_x * t
            y_new[unsafe] = ys[unsafe] + rng.standard_normal(m) * sd_y * t[:, 0]
    return X_new, y_new


def _resample(
    X: np.ndarray,
    y: np.ndarray,
    rel,
    rel_threshold,
    k,
    sampling,
    over,
    under,
    pert,
    random_state,
    small_bumps,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked input (:func:`latentdiff.validation.check_features_labels`), relevance ``rel``
    per sample -> kept originals, then synthetic rows, and the indices of the kept originals."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rel = np.asarray(rel, dtype=np.float64).ravel()
    if rel.shape != y.shape or not np.all(np.isfinite(rel)):
        raise ValueError(f"rel must hold one finite relevance per label; got {rel.shape}")
    is_rare = rel >= rel_threshold
    if not is_rare.any():
        raise ValueError(
            f"no sample has relevance >= rel_threshold={rel_threshold}: no rare "
            "samples to oversample"
        )
    if is_rare.all():
        raise ValueError(
            f"every sample has relevance >= rel_threshold={rel_threshold}: no frequent samples"
        )
    order = np.argsort(y, kind="stable")
    cuts = np.flatnonzero(is_rare[order][1:] != is_rare[order][:-1]) + 1
    parts = np.split(order, cuts)
    rare = np.array([is_rare[p[0]] for p in parts])
    targets = _targets(np.array([p.size for p in parts]), rare, sampling, over, under)

    rng = np.random.default_rng(random_state)
    keep, X_syn, y_syn = [], [], []
    for part, target in zip(parts, targets, strict=True):
        if target <= part.size:  # undersample (or keep) this bump
            keep.append(
                np.sort(rng.choice(part, int(target), replace=False))
                if target < part.size
                else part
            )
        else:  # keep it whole and oversample it
            keep.append(part)
            if part.size < 2 and small_bumps == "keep":
                continue  # a lone rare sample has no neighbour to interpolate with
            xs, ys = _synthesise(X[part], y[part], target - part.size, k, pert, rng)
            X_syn.append(xs)
            y_syn.append(ys)
    kept = np.sort(np.concatenate(keep))
    X_out = np.concatenate([X[kept], *X_syn]) if X_syn else X[kept]
    y_out = np.concatenate([y[kept], *y_syn]) if y_syn else y[kept]
    return X_out, y_out, kept


def _store(obj, params: dict) -> None:
    """``__init__`` keeps its arguments as they are (scikit-learn's convention)."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(obj, name, value)


class SMOTER(BaseRegressionSampler):
    """SMOTER (Torgo et al. 2013): undersample the frequent bumps, oversample the rare bumps by
    interpolating a seed with one of its ``k`` nearest neighbours (features and label).

    Parameters
    ----------
    rel_threshold : float
        A sample is rare when its relevance is >= this (0.5 in Torgo et al. 2013).
    k : int
        Neighbours per seed, searched within its bump (reduced to bump size - 1 if larger).
    sampling : {"balance", "extreme"}
        Amounts when neither ``over`` nor ``under`` is given (Branco et al. 2017).
    over : float, optional
        Size ratio of each rare bump after oversampling (>= 1; 3.0 = two synthetic per sample).
    under : float, optional
        Fraction of each frequent bump kept (in (0, 1]). Either of ``over`` / ``under`` switches
        ``sampling`` off; the other then defaults to 1.
    coef, extremes :
        Box-plot relevance settings (:func:`latentdiff.samplers.relevance.relevance`).
    small_bumps : {"raise", "keep"}
        A rare bump of a single sample has no neighbour: raise (default), or keep it as it is
        without synthetic samples (useful with a bin-based relevance that alternates).
    random_state : int or numpy.random.Generator, optional
        Seed; the output is a deterministic function of it.

    ``fit`` checks the input and scores each label's relevance (``relevance_``);
    ``fit_resample(X, y, rel=None)`` returns the kept originals first, then the synthetic rows
    (:class:`~latentdiff.samplers.base.BaseRegressionSampler`); ``rel`` replaces the box-plot
    relevance with one of the caller's (e.g. from a domain-specific curve).

    **Degenerate relevance.** Two rules, each announced by a
    :class:`~latentdiff.samplers.relevance.RelevanceWarning` and recorded:

    * *Median rule.* When the box-plot relevance marks every sample rare (two large clusters at
      the whisker ends, outliers beyond both) or cannot be built (many labels tie at the median
      or a whisker end: 80 % zeros), the control points become the median (relevance 0) and the
      extreme labels (relevance 1; :func:`~latentdiff.samplers.relevance.median_control_points`),
      Ribeiro's (2011) automatic relevance with the collapsed whisker ends replaced by the
      observed extremes. ``relevance_rule_`` is ``"median"`` (else ``"boxplot"``, or
      ``"given"`` for a caller's ``rel``, which is never replaced).
    * *Nothing to balance.* When no sample is rare, or every sample still is, there is one bump:
      Branco et al.'s amounts give it its own size (the ``smogn`` package returns such a set
      unchanged), so ``fit_resample`` returns the input unchanged with no synthetic rows and
      ``outcome_`` says ``"no-rare"`` or ``"no-frequent"`` (else ``"resampled"``). This holds with
      explicit ``over`` / ``under`` too.
    """

    def __init__(self, *, rel_threshold=0.5, k=5, sampling="balance", over=None, under=None,
                 coef=1.5, extremes="both", small_bumps="raise", random_state=None):  # fmt: skip
        _store(self, locals())

    def _noise(self) -> float | None:
        return None

    def _check_params(self, X, y) -> None:
        _check_params(self.rel_threshold, self.k, self.over, self.under, self._noise())
        if self.sampling not in ("balance", "extreme"):
            raise ValueError(f"sampling must be 'balance' or 'extreme', got {self.sampling!r}")
        if self.small_bumps not in ("raise", "keep"):
            raise ValueError(f"small_bumps must be 'raise' or 'keep', got {self.small_bumps!r}")

    def _fit(self, X, y, rel=None) -> SMOTER:
        if rel is None:
            self.relevance_, self.relevance_rule_ = _box_plot_relevance(
                y, self.coef, self.extremes, self.rel_threshold
            )
            return self
        rel = np.asarray(rel, dtype=np.float64).ravel()
        if rel.shape != y.shape or not np.all(np.isfinite(rel)):
            raise ValueError(f"rel must hold one finite relevance per label; got {rel.shape}")
        self.relevance_, self.relevance_rule_ = rel, "given"
        return self

    def _fit_resample(self, X, y, rel=None):
        self._fit(X, y, rel)
        is_rare = self.relevance_ >= self.rel_threshold
        self.n_rare_ = int(is_rare.sum())
        if is_rare.all() or not is_rare.any():
            self.outcome_ = "no-frequent" if is_rare.all() else "no-rare"
            what = "every" if is_rare.all() else "no"
            warnings.warn(
                f"{what} sample has relevance >= rel_threshold={self.rel_threshold} (relevance "
                f"rule: {self.relevance_rule_}): one bump, nothing to balance; the set is returned "
                f"unchanged without synthetic samples (outcome_ = {self.outcome_!r})",
                RelevanceWarning,
                stacklevel=3,
            )
            return X, y, np.arange(y.size)
        self.outcome_ = "resampled"
        return _resample(
            X, y, self.relevance_, self.rel_threshold, self.k, self.sampling, self.over,
            self.under, self._noise(), self.random_state, self.small_bumps,
        )  # fmt: skip


class SMOGN(SMOTER):
    """SMOGN (Branco et al. 2017): SMOTER, except that a synthetic sample whose neighbour lies
    beyond half the median k-neighbour distance is the seed plus Gaussian noise of std
    ``min(maxD, pert) * sd`` per column (label included). ``pert``: the noise scale as a fraction
    of each column's std in the bump (0.02 in Branco et al. 2017; seed 004 used 0.1). Otherwise
    as :class:`SMOTER`."""

    def __init__(self, *, rel_threshold=0.5, k=5, pert=0.02, sampling="balance", over=None,
                 under=None, coef=1.5, extremes="both", small_bumps="raise",
                 random_state=None):  # fmt: skip
        _store(self, locals())

    def _noise(self) -> float | None:
        return self.pert


def _function(sampler: SMOTER, X, y, rel) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    X_new, y_new = sampler.fit_resample(X[:, None] if X.ndim == 1 else X, y, rel=rel)
    return X_new.astype(np.float64, copy=False), y_new.astype(np.float64, copy=False)


def smoter(X, y, *, rel=None, **params) -> tuple[np.ndarray, np.ndarray]:
    """:class:`SMOTER` ``(**params)`` on ``(X, y)`` as float64 (a 1-D ``X`` is one feature):
    the kept original rows in their order, then the synthetic rows. ``rel``: a relevance per
    sample instead of the box-plot one."""
    return _function(SMOTER(**params), X, y, rel)


def smogn(X, y, *, rel=None, **params) -> tuple[np.ndarray, np.ndarray]:
    """:class:`SMOGN` ``(**params)`` on ``(X, y)``, as :func:`smoter`."""
    return _function(SMOGN(**params), X, y, rel)
