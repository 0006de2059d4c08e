"""SMOTER and SMOGN: resample a regression training set towards its rare labels (the
"synthetic samples" baselines of seed 004, sec. 4 and appendix B).

* Relevance ``phi(y)`` in [0, 1] (Ribeiro 2011; Torgo et al. 2013, sec. 2): control points at the
  box-plot whisker ends (relevance 1, only on a side that has points beyond its whisker) and the
  median (relevance 0), joined by a monotone cubic Hermite spline. Box-plot statistics are the
  *plain* (Tukey 1.5 IQR, not the skew-adjusted) ones, with quartiles by midpoint interpolation, as
  in the ``smogn`` package (0.1.2, ``box_plot_stats``); the knot slopes are all zero as there, so
  each piece is a smoothstep and the curve is flat beyond the end knots.
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

from typing import Literal

import numpy as np
from scipy.interpolate import CubicHermiteSpline
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors

from .validation import check_features_labels

Extremes = Literal["both", "high", "low"]
Sampling = Literal["balance", "extreme"]

__all__ = [
    "SMOGN",
    "SMOTER",
    "box_plot_stats",
    "relevance",
    "relevance_control_points",
    "smogn",
    "smoter",
]


# --- relevance (Ribeiro 2011; Torgo et al. 2013 sec. 2; smogn 0.1.2 phi_ctrl_pts / phi) ---------


def _as_labels(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("y is empty")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y has {int(np.sum(~np.isfinite(y)))} non-finite value(s) (NaN/inf)")
    return y


def box_plot_stats(y, coef: float = 1.5) -> np.ndarray:
    """Tukey's box-plot five numbers of ``y``: (lower whisker, Q1, median, Q3, upper whisker).

    Quartiles use midpoint interpolation and the whiskers end at the most extreme *observed*
    value inside ``[Q1 - coef IQR, Q3 + coef IQR]`` (R's ``boxplot.stats`` rule as the ``smogn``
    package implements it; Tukey 1977, sec. 2C). These are the plain statistics, not the
    skew-adjusted box plot of Hubert and Vandervieren (2008).

    Parameters
    ----------
    y : array_like, shape (n,)
        Labels.
    coef : float
        Whisker length in IQRs (> 0).

    Returns
    -------
    numpy.ndarray, shape (5,)
    """
    if not coef > 0:
        raise ValueError(f"box-plot coef must be > 0, got {coef!r}")
    y = _as_labels(y)
    q1, med, q3 = np.quantile(y, [0.25, 0.5, 0.75], method="midpoint")
    iqr = q3 - q1
    lo = y[y >= q1 - coef * iqr].min()
    hi = y[y <= q3 + coef * iqr].max()
    return np.array([lo, q1, med, q3, hi])


def relevance_control_points(
    y, *, coef: float = 1.5, extremes: Extremes = "both"
) -> tuple[np.ndarray, np.ndarray]:
    """Control points ``(knots, phi at knots)`` of the automatic relevance function.

    Following ``phi_extremes`` of Ribeiro (2011) / UBL / smogn: on a side asked for by
    ``extremes`` that has values beyond its whisker, the whisker end gets relevance 1; otherwise
    that side's knot is the data's extreme value with relevance 0; the median gets relevance 0.

    Returns
    -------
    knots : numpy.ndarray, shape (m,)
        Strictly increasing label values (m = 2 or 3).
    phi : numpy.ndarray, shape (m,)
        Relevance at the knots, each 0 or 1.
    """
    if extremes not in ("both", "high", "low"):
        raise ValueError(f"extremes must be 'both', 'high' or 'low', got {extremes!r}")
    y = _as_labels(y)
    if np.ptp(y) == 0:
        raise ValueError("y is constant: relevance (and rare vs frequent) is undefined")
    lo, _, med, _, hi = box_plot_stats(y, coef)
    ymin, ymax = y.min(), y.max()
    knots, phi = [], []
    if extremes in ("both", "low") and ymin < lo:
        knots.append(lo)
        phi.append(1.0)
    else:
        knots.append(ymin)
        phi.append(0.0)
    if med != ymin:
        knots.append(med)
        phi.append(0.0)
    if extremes in ("both", "high") and ymax > hi:
        knots.append(hi)
        phi.append(1.0)
    elif med != ymax:
        knots.append(ymax)
        phi.append(0.0)
    knots = np.asarray(knots)
    if np.any(np.diff(knots) <= 0):
        raise ValueError(
            f"relevance control points {knots.tolist()} are not strictly increasing: too many "
            "labels tie at the median or a whisker end; pass a relevance array instead"
        )
    return knots, np.asarray(phi)


def relevance(y, *, coef: float = 1.5, extremes: Extremes = "both", reference=None) -> np.ndarray:
    """Relevance ``phi(y)`` in [0, 1] from box-plot extremes.

    The control points (:func:`relevance_control_points`) come from ``reference`` (default:
    ``y`` itself) and are joined by a cubic Hermite spline with zero slope at every knot
    (``scipy.interpolate.CubicHermiteSpline``). This is the curve of smogn 0.1.2's ``phi``: its
    Fritsch-Carlson pass leaves the zero slopes of ``phi_extremes`` unchanged. It is monotone on
    each piece. scipy's ``PchipInterpolator`` would instead give non-zero end slopes.

    Beyond the end knots the value is held (flat). smogn sets 1 below the first knot even when
    that knot has relevance 0, which matters only for labels below ``min(reference)``.

    Parameters
    ----------
    y : array_like, shape (n,)
        Labels to score.
    coef : float
        Box-plot whisker length in IQRs.
    extremes : {"both", "high", "low"}
        Which tails may be relevant.
    reference : array_like, optional
        Labels that define the control points (e.g. the training labels when scoring test labels).

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    y = _as_labels(y)
    knots, phi = relevance_control_points(
        y if reference is None else reference, coef=coef, extremes=extremes
    )
    spline = CubicHermiteSpline(knots, phi, np.zeros_like(phi))
    return np.clip(spline(np.clip(y, knots[0], knots[-1])), 0.0, 1.0)


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


# --- the resamplers -----------------------------------------------------------------------------


def _check_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    y = _as_labels(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"X has {int(np.sum(~np.isfinite(X)))} non-finite value(s) (NaN/inf)")
    return X, y


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
    X,
    y,
    rel_threshold,
    k,
    sampling,
    over,
    under,
    pert,
    coef,
    extremes,
    rel,
    random_state,
    small_bumps="raise",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if small_bumps not in ("raise", "keep"):
        raise ValueError(f"small_bumps must be 'raise' or 'keep', got {small_bumps!r}")
    X, y = _check_xy(X, y)
    _check_params(rel_threshold, k, over, under, pert)
    if rel is None:
        rel = relevance(y, coef=coef, extremes=extremes)
    else:
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


_PARAMS_DOC = """
    Parameters
    ----------
    X : array_like, shape (n, d)
        Numeric features (e.g. standardised tabular inputs or frozen embeddings).
    y : array_like, shape (n,)
        Labels.
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
        Box-plot relevance settings (:func:`relevance`).
    rel : array_like, shape (n,), optional
        Precomputed relevance per sample (e.g. from a domain-specific curve) instead of the
        automatic box-plot one.
    random_state : int or numpy.random.Generator, optional
        Seed; the output is a deterministic function of it.
    small_bumps : {"raise", "keep"}
        A rare bump of a single sample has no neighbour: raise (default), or keep it as it is
        without synthetic samples (useful with a bin-based ``rel`` that alternates).

    Returns
    -------
    X_new : numpy.ndarray, shape (m, d), float64
        Kept original rows (in their original order), then the synthetic rows.
    y_new : numpy.ndarray, shape (m,), float64
"""


def smoter(
    X,
    y,
    *,
    rel_threshold: float = 0.5,
    k: int = 5,
    sampling: Sampling = "balance",
    over: float | None = None,
    under: float | None = None,
    coef: float = 1.5,
    extremes: Extremes = "both",
    rel=None,
    random_state=None,
    small_bumps: str = "raise",
) -> tuple[np.ndarray, np.ndarray]:
    X_new, y_new, _ = _resample(
        X,
        y,
        rel_threshold,
        k,
        sampling,
        over,
        under,
        None,
        coef,
        extremes,
        rel,
        random_state,
        small_bumps,
    )
    return X_new, y_new


def smogn(
    X,
    y,
    *,
    rel_threshold: float = 0.5,
    k: int = 5,
    pert: float = 0.02,
    sampling: Sampling = "balance",
    over: float | None = None,
    under: float | None = None,
    coef: float = 1.5,
    extremes: Extremes = "both",
    rel=None,
    random_state=None,
    small_bumps: str = "raise",
) -> tuple[np.ndarray, np.ndarray]:
    X_new, y_new, _ = _resample(
        X,
        y,
        rel_threshold,
        k,
        sampling,
        over,
        under,
        pert,
        coef,
        extremes,
        rel,
        random_state,
        small_bumps,
    )
    return X_new, y_new


smoter.__doc__ = (
    "SMOTER (Torgo et al. 2013): undersample frequent bumps, oversample rare bumps by\n"
    "    interpolating a seed with one of its k nearest neighbours (features and label).\n"
    + _PARAMS_DOC
)
smogn.__doc__ = (
    "SMOGN (Branco et al. 2017): SMOTER, except that a synthetic sample whose neighbour lies\n"
    "    beyond half the median k-neighbour distance is the seed plus Gaussian noise of std\n"
    "    ``min(maxD, pert) * sd`` per column (label included).\n"
    + _PARAMS_DOC.replace(
        "    coef, extremes :",
        "    pert : float\n        Noise scale as a fraction of each column's std in the bump "
        "(0.02 in Branco\n        et al. 2017; seed 004 used 0.1).\n    coef, extremes :",
    )
)


# --- imbalanced-learn style wrappers ------------------------------------------------------------


class SMOTER(BaseEstimator):
    """:func:`smoter` as an imbalanced-learn style sampler (a scikit-learn estimator).

    ``fit(X, y)`` checks the input (as :class:`latentdiff.sampler.LatentDiffSampler` does) and
    computes each label's relevance (``relevance_``); ``fit_resample(X, y)`` fits and returns the
    kept original rows first, unchanged and in their order, then the synthetic rows. X keeps its
    floating dtype (integer features come back as float64, since interpolated rows are not
    integers); y comes back as float64. ``sample_indices_`` holds the indices of the kept
    originals. A training set with no rare or no frequent sample cannot be resampled and is
    refused with a ValueError by ``fit_resample`` rather than returned unchanged (the caller asked
    for a resampled set); ``fit`` accepts it, as it only checks the input and scores relevance.
    """

    def __init__(
        self,
        *,
        rel_threshold=0.5,
        k=5,
        sampling="balance",
        over=None,
        under=None,
        coef=1.5,
        extremes="both",
        random_state=None,
    ):
        self.rel_threshold = rel_threshold
        self.k = k
        self.sampling = sampling
        self.over = over
        self.under = under
        self.coef = coef
        self.extremes = extremes
        self.random_state = random_state

    def fit(self, X, y) -> SMOTER:
        X, y = check_features_labels(X, y)
        _check_params(self.rel_threshold, self.k, self.over, self.under, self._noise())
        self.n_features_in_ = X.shape[1]
        self.relevance_ = relevance(y.astype(np.float64), coef=self.coef, extremes=self.extremes)
        return self

    def fit_resample(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        self.fit(X, y)
        X, y = check_features_labels(X, y)
        X_new, y_new, kept = _resample(
            X,
            y,
            self.rel_threshold,
            self.k,
            self.sampling,
            self.over,
            self.under,
            self._noise(),
            self.coef,
            self.extremes,
            self.relevance_,
            self.random_state,
        )
        self.sample_indices_ = kept
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        return X_new.astype(dtype, copy=False), y_new

    def _noise(self) -> float | None:
        return None


class SMOGN(SMOTER):
    """:func:`smogn` as an imbalanced-learn style sampler; as :class:`SMOTER` otherwise."""

    def __init__(
        self,
        *,
        rel_threshold=0.5,
        k=5,
        pert=0.02,
        sampling="balance",
        over=None,
        under=None,
        coef=1.5,
        extremes="both",
        random_state=None,
    ):
        super().__init__(
            rel_threshold=rel_threshold,
            k=k,
            sampling=sampling,
            over=over,
            under=under,
            coef=coef,
            extremes=extremes,
            random_state=random_state,
        )
        self.pert = pert

    def _noise(self) -> float | None:
        return self.pert
