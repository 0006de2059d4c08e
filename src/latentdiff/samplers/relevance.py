"""Relevance ``phi(y)`` in [0, 1] of a continuous label (Ribeiro 2011; Torgo et al. 2013, sec. 2):
control points at the box-plot whisker ends (relevance 1, only on a side that has points beyond
its whisker) and the median (relevance 0), joined by a monotone cubic Hermite spline. Box-plot
statistics are the *plain* (Tukey 1.5 IQR, not the skew-adjusted) ones, with quartiles by
midpoint interpolation, as in the ``smogn`` package (0.1.2, ``box_plot_stats``); the knot slopes
are all zero as there, so each piece is a smoothstep and the curve is flat beyond the end knots.
SMOTER and SMOGN (:mod:`latentdiff.samplers.smoter`) call a sample rare when its relevance is at
least a threshold.

When the box plot degenerates, SMOTER and SMOGN fall back to the *median rule*
(:func:`median_control_points`, ``rule="median"``): relevance 0 at the median and 1 at the
data's extreme values. It is Ribeiro's (2011) automatic relevance with the whisker ends, which
have collapsed onto the bulk of the data, replaced by the observed extremes; see
:class:`latentdiff.samplers.smoter.SMOTER` for when it is used.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.interpolate import CubicHermiteSpline

from ..validation import check_labels

Extremes = Literal["both", "high", "low"]
Rule = Literal["boxplot", "median"]


class RelevanceWarning(UserWarning):
    """SMOTER / SMOGN could not use the box-plot relevance as it is, or found nothing to
    resample; the sampler's ``relevance_rule_`` and ``outcome_`` say what was done."""


class TiedControlPointsError(ValueError):
    """The box-plot control points coincide (many labels tie at the median or a whisker end)."""


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
    y = check_labels(y)
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
    y = check_labels(y)
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
        raise TiedControlPointsError(
            f"relevance control points {knots.tolist()} are not strictly increasing: too many "
            "labels tie at the median or a whisker end; pass a relevance array instead"
        )
    return knots, np.asarray(phi)


def median_control_points(y, *, extremes: Extremes = "both") -> tuple[np.ndarray, np.ndarray]:
    """Control points of the median rule, the fallback when the box plot degenerates.

    The median (midpoint quartile, as :func:`box_plot_stats`) gets relevance 0; the data's
    minimum and maximum get relevance 1 on the sides asked for by ``extremes`` and 0 on the
    others; an extreme equal to the median is left out. It is the automatic relevance of
    Ribeiro (2011) with the whisker ends replaced by the observed extremes: the median stays the
    least relevant label and relevance rises monotonically towards both ends. With a two-valued
    target whose median is its smaller value (80 % zeros, 20 % ones) the larger value is rare.

    Returns ``(knots, phi)`` as :func:`relevance_control_points`.
    """
    if extremes not in ("both", "high", "low"):
        raise ValueError(f"extremes must be 'both', 'high' or 'low', got {extremes!r}")
    y = check_labels(y)
    if np.ptp(y) == 0:
        raise ValueError("y is constant: relevance (and rare vs frequent) is undefined")
    med = float(np.quantile(y, 0.5, method="midpoint"))
    ymin, ymax = float(y.min()), float(y.max())
    knots, phi = [], []
    if ymin < med:
        knots.append(ymin)
        phi.append(1.0 if extremes in ("both", "low") else 0.0)
    knots.append(med)
    phi.append(0.0)
    if ymax > med:
        knots.append(ymax)
        phi.append(1.0 if extremes in ("both", "high") else 0.0)
    return np.asarray(knots), np.asarray(phi)


def relevance(
    y, *, coef: float = 1.5, extremes: Extremes = "both", reference=None, rule: Rule = "boxplot"
) -> np.ndarray:
    """Relevance ``phi(y)`` in [0, 1] from box-plot extremes (or, with ``rule="median"``, from
    the median rule of :func:`median_control_points`; ``coef`` is then unused).

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
    rule : {"boxplot", "median"}
        The control points: box-plot extremes (default), or the median rule.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    y = check_labels(y)
    ref = y if reference is None else reference
    if rule == "boxplot":
        knots, phi = relevance_control_points(ref, coef=coef, extremes=extremes)
    elif rule == "median":
        knots, phi = median_control_points(ref, extremes=extremes)
    else:
        raise ValueError(f"rule must be 'boxplot' or 'median', got {rule!r}")
    spline = CubicHermiteSpline(knots, phi, np.zeros_like(phi))
    return np.clip(spline(np.clip(y, knots[0], knots[-1])), 0.0, 1.0)
