"""The feature-quality figures of one (method, seed), drawn with matplotlib's object-oriented
API on the Agg canvas (no pyplot, no display). Every function returns a :class:`Drawn`: the
figure and the data it draws, so that a test (or the HTML report) can check the values.

* :func:`hexbin_figure`: predicted against true test labels, hexbin density, R^2 in the title
  (seed 000, Figure 4), the baseline beside the method;
* :func:`label_histogram`: training labels per evaluation bin with the shot regions shaded, and
  the accepted synthetic labels (Figures 7-12, 48);
* :func:`projection`: PCA or t-SNE of real and synthetic features, coloured by real / synthetic
  and by label; PCA's explained variance (Figures 3, 42-47);
* :func:`activation_scatter`: per-dimension means and standard deviations, real against
  synthetic (Figures 29-37);
* :func:`neighbour_histograms`: nearest-real cosine distance and label gap (Figures 26-28);
* :func:`per_bin_figure`: KL, JS, Wasserstein and Frechet distance per generation bin, regions
  shaded (Figures 38-41, Table 10).

:func:`figures` draws them all for a (method, seed) of a run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..binning import Bins
from ..reporting.plots import REGION_COLOURS, _figure, _region_legend, _shade_regions
from .activations import pearson, profile
from .neighbours import nearest_real

#: rows t-SNE is run on at most (half real, half synthetic when both have enough)
TSNE_ROWS = 1000
#: fewer rows than this get no t-SNE figure (its perplexity needs several neighbours)
TSNE_MIN_ROWS = 10
REAL_COLOUR, SYN_COLOUR = "#3b75af", "#ef8636"


class Drawn(NamedTuple):
    figure: object  # matplotlib.figure.Figure
    data: dict


# --- predictions ----------------------------------------------------------------------------------
def hexbin_figure(panels: list[tuple[str, np.ndarray, np.ndarray]]) -> Drawn:
    """One hexbin per ``(title, y_true, y_pred)``, the diagonal drawn, R^2 in the title;
    ``data["r2"]``: each panel's ``sklearn.metrics.r2_score``."""
    from sklearn.metrics import r2_score

    fig, axes = _figure(len(panels), ncols=len(panels))
    lo = min(float(np.min([t.min(), p.min()])) for _, t, p in panels)
    hi = max(float(np.max([t.max(), p.max()])) for _, t, p in panels)
    r2s = []
    for ax, (title, y, p) in zip(axes, panels, strict=True):
        r2 = float(r2_score(y, p))
        r2s.append(r2)
        ax.hexbin(y, p, gridsize=40, mincnt=1, cmap="viridis", extent=(lo, hi, lo, hi))
        ax.plot([lo, hi], [lo, hi], color="#c8453c", lw=1)
        ax.set(title=f"{title}: R² = {r2:.3f}", xlabel="true label", ylabel="predicted")
    return Drawn(fig, {"titles": [t for t, _, _ in panels], "r2": r2s})


# --- labels ---------------------------------------------------------------------------------------
def label_histogram(regions: dict, train_counts, syn_labels=(), syn_counts=()) -> Drawn:
    """Training labels per evaluation bin (``train_counts``), the bins shaded by shot region
    (``regions``: :meth:`ShotRegions.to_dict`), and the accepted synthetic labels counted on the
    same bins (``syn_labels`` with ``syn_counts`` rows each). ``data``: ``edges``,
    ``real_counts``, ``syn_counts``."""
    b = regions["bins"]
    bins = Bins.from_range(b["low"], b["high"], n_bins=b["n_bins"])
    real = np.asarray(train_counts, dtype=np.int64)
    syn = np.zeros(bins.n_bins, dtype=np.int64)
    if len(syn_labels):
        np.add.at(syn, bins.assign(np.asarray(syn_labels, np.float64)), np.asarray(syn_counts))
    fig, (ax,) = _figure(1)
    _shade_regions(ax, {"edges": bins.edges.tolist(), "region_of_bin": regions["region_of_bin"]})
    w = bins.width
    ax.bar(bins.centers, real, width=w, color=REAL_COLOUR, alpha=0.8, label="real (training)")
    if syn.any():
        ax.bar(bins.centers, syn, width=w * 0.5, color=SYN_COLOUR, alpha=0.9,
               label="synthetic (accepted)")  # fmt: skip
    ax.set(xlabel="label", ylabel="rows per evaluation bin")
    handles = ax.get_legend_handles_labels()
    _region_legend(ax)
    ax.add_artist(ax.get_legend())
    ax.legend(*handles, loc="upper center", fontsize="small")
    return Drawn(fig, {"edges": bins.edges.tolist(), "real_counts": real.tolist(),
                       "syn_counts": syn.tolist()})  # fmt: skip


# --- feature space --------------------------------------------------------------------------------
def _subsample(n_real: int, n_syn: int, limit: int, seed: int):
    rng = np.random.default_rng(seed)
    k_syn = min(n_syn, max(limit // 2, limit - n_real))
    k_real = min(n_real, limit - k_syn)
    r = np.sort(rng.choice(n_real, k_real, replace=False))
    s = np.sort(rng.choice(n_syn, k_syn, replace=False))
    return r, s


def projection(sample, kind: str = "pca", seed: int = 0, limit: int = TSNE_ROWS) -> Drawn:
    """Real and synthetic features projected on 2 axes (``kind``: ``"pca"`` on every row, or
    ``"tsne"`` on at most ``limit`` rows): coloured by real / synthetic, by label, and for PCA
    the explained variance ratio of the first components. ``data``: ``coords``, ``synthetic``
    (bool per row), ``labels`` and, for PCA, ``explained_variance_ratio``."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    r, s = np.arange(len(sample.real_y)), np.arange(len(sample.syn_y))
    if kind == "tsne":
        r, s = _subsample(len(r), len(s), limit, seed)
    elif kind != "pca":
        raise ValueError(f"unknown projection {kind!r}; choose pca or tsne")
    Z = np.concatenate([sample.real_z[r], sample.syn_z[s]]).astype(np.float64)
    y = np.concatenate([sample.real_y[r], sample.syn_y[s]])
    synthetic = np.r_[np.zeros(len(r), bool), np.ones(len(s), bool)]
    data = {"synthetic": synthetic, "labels": y}
    if kind == "pca":
        pca = PCA(n_components=min(10, *Z.shape), random_state=seed).fit(Z)
        coords = pca.transform(Z)[:, :2]
        data["explained_variance_ratio"] = pca.explained_variance_ratio_.tolist()
    else:
        perplexity = float(min(30.0, max(2.0, (len(Z) - 1) / 3)))
        coords = TSNE(2, perplexity=perplexity, init="pca", random_state=seed,
                      learning_rate="auto").fit_transform(Z)  # fmt: skip
    if coords.shape[1] < 2:  # one-dimensional features: the second axis is 0
        coords = np.c_[coords, np.zeros(len(coords))]
    data["coords"] = coords
    fig, axes = _figure(3 if kind == "pca" else 2)
    name = "PCA" if kind == "pca" else "t-SNE"
    axes[0].scatter(*coords[~synthetic].T, s=6, c=REAL_COLOUR, label="real")
    axes[0].scatter(*coords[synthetic].T, s=10, c=SYN_COLOUR, marker="x", label="synthetic")
    axes[0].set(title=f"{name}: real and synthetic")
    axes[0].legend(fontsize="small")
    points = axes[1].scatter(*coords.T, s=6, c=y, cmap="viridis")
    axes[1].figure.colorbar(points, ax=axes[1], label="label")
    axes[1].set(title=f"{name}: coloured by label")
    if kind == "pca":
        ratio = data["explained_variance_ratio"]
        axes[2].bar(np.arange(1, len(ratio) + 1), ratio, color=REAL_COLOUR)
        axes[2].set(title="PCA: explained variance ratio", xlabel="component")
    return Drawn(fig, data)


def activation_scatter(sample) -> Drawn:
    """Per dimension, the synthetic mean against the real mean and the synthetic standard
    deviation against the real one, with their Pearson r. ``data``: the :func:`profile` arrays,
    ``mean_correlation``, ``std_correlation``."""
    p = profile(sample.real_z, sample.syn_z)
    data = {**p, "mean_correlation": pearson(p["real_mean"], p["syn_mean"]),
            "std_correlation": pearson(p["real_std"], p["syn_std"])}  # fmt: skip
    fig, axes = _figure(2)
    for ax, what in zip(axes, ("mean", "std"), strict=True):
        a, b = p[f"real_{what}"], p[f"syn_{what}"]
        ax.scatter(a, b, s=8, c=REAL_COLOUR)
        lo, hi = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
        ax.plot([lo, hi], [lo, hi], color="#c8453c", lw=1)
        r = data[f"{what}_correlation"]
        ax.set(title=f"per-dimension {what}: r = {'n/a' if r is None else f'{r:.3f}'}",
               xlabel=f"real {what}", ylabel=f"synthetic {what}")  # fmt: skip
    return Drawn(fig, data)


def neighbour_histograms(sample, bins: int = 40) -> Drawn:
    """Histograms of the cosine distance from each synthetic feature to its nearest real one and
    of the label gap to it. ``data``: ``distance``, ``label_gap`` (per synthetic row) and the
    histograms' ``distance_counts``, ``gap_counts``."""
    dist, gap = nearest_real(sample.real_z, sample.real_y, sample.syn_z, sample.syn_y)
    fig, axes = _figure(2)
    dc = axes[0].hist(dist, bins=bins, color=SYN_COLOUR)[0]
    axes[0].set(title="nearest real feature: cosine distance", xlabel="distance", ylabel="rows")
    gc = axes[1].hist(gap, bins=bins, color=SYN_COLOUR)[0]
    axes[1].set(title="label gap to it", xlabel="|y_syn - y_real|", ylabel="rows")
    return Drawn(fig, {"distance": dist, "label_gap": gap, "distance_counts": dc.tolist(),
                       "gap_counts": gc.tolist()})  # fmt: skip


def per_bin_figure(bins: list[dict]) -> Drawn:
    """KL, JS, Wasserstein and Frechet distance per generation bin (the bins of
    :func:`~latentdiff.analysis.quality.feature_quality`), against the bin's label, each bin's
    span shaded by its shot region. ``data``: per metric the ``(label, value)`` pairs drawn."""
    metrics = {"kl": "KL(real || synthetic)", "js": "Jensen-Shannon divergence",
               "wasserstein": "Wasserstein distance", "frechet": "Frechet distance"}  # fmt: skip
    fig, axes = _figure(4, ncols=2)
    data = {}
    for ax, (m, title) in zip(axes, metrics.items(), strict=True):
        for b in bins:
            if b["region"]:
                ax.axvspan(b["low"], b["high"], color=REGION_COLOURS[b["region"]], alpha=0.12,
                           lw=0, zorder=0)  # fmt: skip
        pts = []
        for b in bins:
            v = b["frechet"] if m == "frechet" else (b["divergence"] or {}).get(m)
            if v is not None:
                pts.append((b["label"], v))
        data[m] = pts
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", color=SYN_COLOUR)
        ax.set(title=title, xlabel="generation bin label")
    _region_legend(axes[0])
    return Drawn(fig, data)


# --- one (method, seed) of a run ------------------------------------------------------------------
BASELINE = "vanilla"


def figures(run_dir, method: str, seed: int | None = None, tsne: bool = True) -> dict[str, Drawn]:
    """Every figure of ``method`` in the run directory ``run_dir`` for ``seed`` (default: the
    first seed it has a file for), by name: ``hexbin`` (beside vanilla of the same seed when the
    run has it) and, for a LatentDiff-family method, ``labels``, ``pca``, ``tsne`` (unless
    ``tsne`` is False or the sample has fewer than :data:`TSNE_MIN_ROWS` rows),
    ``activations`` and ``neighbours`` (when there are synthetic rows), ``per_bin``."""
    from .quality import feature_quality
    from .run import analysis_files
    from .sample import AnalysisFile

    files, _ = analysis_files(run_dir)
    paths = {(m, s): p for m, s, p in files}
    if seed is None:
        seeds = [s for m, s, _ in files if m == method]
        if not seeds:
            raise ValueError(f"{run_dir} has no analysis file of method {method!r}")
        seed = seeds[0]
    if (method, seed) not in paths:
        raise ValueError(f"{run_dir} has no analysis file of {method} seed {seed}")
    f = AnalysisFile.read(paths[(method, seed)])
    panels = []
    if method != BASELINE and (BASELINE, seed) in paths:
        b = AnalysisFile.read(paths[(BASELINE, seed)])
        panels.append((BASELINE, b.test_true, b.test_pred))
    panels.append((method, f.test_true, f.test_pred))
    out = {"hexbin": hexbin_figure(panels)}
    s = f.sample
    if s is None:
        return out
    regions = f.meta["regions"]
    counts = regions.get("train_counts") or _train_counts(Path(run_dir))
    if counts is not None:
        out["labels"] = label_histogram(regions, counts, s.meta["bin_labels"], s.meta["syn_counts"])
    out["pca"] = projection(s, "pca", seed)
    if tsne and len(s.real_y) + len(s.syn_y) >= TSNE_MIN_ROWS:
        out["tsne"] = projection(s, "tsne", seed)
    if len(s.syn_y):
        out["activations"] = activation_scatter(s)
        out["neighbours"] = neighbour_histograms(s)
    out["per_bin"] = per_bin_figure(feature_quality(s)["bins"])
    return out


def _train_counts(run_dir: Path):
    """The training counts per evaluation bin from ``plots/labels.json`` (regions given as fixed
    lists carry none of their own)."""
    from ..reporting.plots import read_json

    labels = read_json(run_dir / "plots" / "labels.json")
    return None if not labels else labels.get("train_counts")
