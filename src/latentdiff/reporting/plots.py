"""The figures of a run directory, drawn from its files alone (``results.json``, ``runs.json``,
``config.json`` and ``plots/labels.json``), so that ``latentdiff report DIR --html`` redraws them
from the directory with no data set at hand:

* ``plots/labels.png``: the training label histogram per evaluation bin, coloured by shot region
  (from ``plots/labels.json``, which :func:`label_summary` makes and the benchmark writes);
* ``plots/per_bin_error.png``: test MAE (or MSE, the data set's first table metric) per
  evaluation bin, mean over seeds, vanilla against each other method (``runs.json``
  ``test_per_bin``);
* ``plots/generation.png``: LatentDiff-family methods: synthetic features requested and accepted
  per generation bin beside the real count (``runs.json`` ``per_bin``);
* ``plots/tuning.png``: tuned methods: validation score against the synthetic ratio, one line per
  allocation, the untuned baseline and the chosen setting (``runs.json`` ``tuning``);
* ``plots/auto.png``: automatic method choice: each candidate's validation score (``auto``).

Figures are drawn with matplotlib's object-oriented API on the Agg canvas: no pyplot, no global
backend change, no display. A figure whose input is missing or malformed is skipped with a
message saying why; one plot's failure never stops the others.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from pathlib import Path

import numpy as np

from ..binning import REGIONS
from ..io import atomic_write_bytes

#: the plots, in the order a page shows them: name -> caption
PLOTS: dict[str, str] = {
    "labels": "Training labels per evaluation bin, coloured by shot region",
    "per_bin_error": "Test error per evaluation bin (mean over seeds): vanilla against each method",
    "generation": "Synthetic features per generation bin: requested, accepted, and the real count",
    "tuning": "Tuning: validation score of each candidate setting",
    "auto": "Automatic choice: validation score of each candidate method",
}
REGION_COLOURS = {"many": "#4c9a5b", "medium": "#e0a030", "few": "#c8453c"}
PANEL_SIZE = (4.6, 3.2)
MAX_PANELS = 16


def label_summary(dataset) -> dict:
    """What ``plots/labels.json`` holds: the evaluation bins, the training (and test) label count
    and the shot region of each bin, and how the regions were made."""
    bins = dataset.eval_bins
    return {
        "dataset": dataset.name,
        "regions": dataset.regions.description,
        "edges": bins.edges.tolist(),
        "centers": bins.centers.tolist(),
        "train_counts": bins.counts(dataset.train.y).tolist(),
        "test_counts": bins.counts(dataset.test.y).tolist(),
        "region_of_bin": [str(r) for r in dataset.regions.region_of_bin],
    }


def read_json(path: Path, default=None):
    """A JSON file's content, or ``default`` when it is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


def _entries(runs) -> list[dict]:
    """The ``runs.json`` entries that are dicts with a method and no error."""
    if not isinstance(runs, list):
        return []
    return [r for r in runs if isinstance(r, dict) and "error" not in r and "method" in r]


def _figure(n_panels: int, ncols: int | None = None):
    """A figure of ``n_panels`` axes on the Agg canvas (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = ncols or min(n_panels, 3)
    nrows = math.ceil(n_panels / ncols)
    size = (8, 3.6) if n_panels == 1 else (PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows)
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _shade_regions(ax, labels: dict | None) -> None:
    """Shade each evaluation bin's span by its shot region (behind the data)."""
    if not labels:
        return
    edges, regions = labels["edges"], labels["region_of_bin"]
    for lo, hi, r in zip(edges[:-1], edges[1:], regions, strict=True):
        ax.axvspan(lo, hi, color=REGION_COLOURS.get(r, "#cccccc"), alpha=0.12, lw=0, zorder=0)


def _log_if_long_tailed(ax, values) -> None:
    """A log count axis when the positive counts span more than two orders of magnitude."""
    v = np.asarray(values, dtype=np.float64)
    v = v[v > 0]
    if v.size and v.max() / v.min() > 100:
        ax.set_yscale("log")


def _region_legend(ax) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=REGION_COLOURS[r], label=r) for r in REGIONS]
    ax.legend(handles=handles, title="shot region", fontsize="small")


# --- the figures: each returns PNG bytes, or None when the run has nothing to show -------------


def labels_png(labels: dict | None) -> bytes | None:
    if not labels:
        return None
    edges = np.asarray(labels["edges"], dtype=np.float64)
    counts = np.asarray(labels["train_counts"], dtype=np.float64)
    regions = labels["region_of_bin"]
    if not (edges.size == counts.size + 1 == len(regions) + 1):
        raise ValueError("labels.json: edges, train_counts and region_of_bin do not match")
    fig, (ax,) = _figure(1)
    colours = [REGION_COLOURS.get(r, "#888888") for r in regions]
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=colours,
           edgecolor="white", linewidth=0.3)  # fmt: skip
    _log_if_long_tailed(ax, counts)
    ax.set_xlabel("label")
    ax.set_ylabel("training samples per bin")
    if labels.get("classes"):  # a classification run: one bar per class
        ax.set_xticks(labels["centers"], labels["classes"], fontsize="small")
        ax.set_xlabel("class")
        ax.set_ylabel("training samples per class")
    ax.set_title(f"{labels.get('dataset', '')}: {labels.get('regions', '')}", fontsize="medium")
    _region_legend(ax)
    return _png(fig)


def _per_bin_means(entries: list[dict], metric: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{method: (bin centres, mean over seeds of the per-bin error; NaN where no seed has one)}."""
    by: dict[str, list] = {}
    for r in entries:
        pb = r.get("test_per_bin")
        if isinstance(pb, dict) and isinstance(pb.get(metric), list) and pb.get("bins"):
            by.setdefault(r["method"], []).append(pb)
    out = {}
    for m, pbs in by.items():
        centres = pbs[0]["bins"]
        vals = [[np.nan if v is None else v for v in pb[metric]] for pb in pbs
                if pb["bins"] == centres and len(pb[metric]) == len(centres)]  # fmt: skip
        a = np.asarray(vals, dtype=np.float64)
        with warnings.catch_warnings():  # a bin no seed has: NaN, no warning
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(a, axis=0)
        out[m] = (np.asarray(centres, dtype=np.float64), mean)
    return out


def per_bin_metric(config: dict | None) -> str:
    """The per-bin error shown: the data set's first table metric if it is MAE or MSE, else MAE."""
    metrics = ((config or {}).get("bench") or {}).get("table_metrics") or []
    first = next((m for m in metrics if m in ("mae", "mse")), "mae")
    return first


def per_bin_error_png(entries: list[dict], labels: dict | None, metric: str) -> bytes | None:
    means = _per_bin_means(entries, metric)
    if not means:
        return None
    others = [m for m in means if m != "vanilla"] or list(means)
    others = others[:MAX_PANELS]
    fig, axes = _figure(len(others))
    base = means.get("vanilla")
    for ax, m in zip(axes, others, strict=True):
        _shade_regions(ax, labels)
        if base is not None and m != "vanilla":
            ax.plot(*base, "o-", color="#555555", ms=2.5, lw=1, label="vanilla")
        ax.plot(*means[m], "o-", color="#1f5fa8", ms=2.5, lw=1.3, label=m)
        ax.set_title(m if base is None or m == "vanilla" else f"{m} vs vanilla", fontsize="medium")
        ax.set_xlabel("label (evaluation bin centre)")
        ax.set_ylabel(f"test {metric.upper()}")
        ax.legend(fontsize="small")
    return _png(fig)


def generation_png(entries: list[dict]) -> bytes | None:
    by: dict[str, dict] = {}
    for r in entries:
        pb = r.get("per_bin")
        if not isinstance(pb, list):
            continue
        bins = by.setdefault(r["method"], {})
        for b in pb:
            if not isinstance(b, dict) or b.get("center") is None:
                continue
            e = bins.setdefault(float(b["center"]), {"n_real": [], "requested": [], "accepted": []})
            for k in e:
                if b.get(k) is not None:
                    e[k].append(float(b[k]))
    by = {m: b for m, b in by.items() if b}
    if not by:
        return None
    methods = list(by)[:MAX_PANELS]
    fig, axes = _figure(len(methods), min(len(methods), 2))
    for ax, m in zip(axes, methods, strict=True):
        centres = np.array(sorted(by[m]))
        width = float(np.min(np.diff(centres))) if centres.size > 1 else 1.0
        w = width / 3.2
        shown = []
        for i, (k, colour) in enumerate(
            (("n_real", "#b0b0b0"), ("requested", "#8fb3e0"), ("accepted", "#1f5fa8"))
        ):
            vals = [np.mean(by[m][c][k]) if by[m][c][k] else 0.0 for c in centres]
            ax.bar(centres + (i - 1) * w, vals, width=w, color=colour,
                   label="real" if k == "n_real" else k)  # fmt: skip
            shown += vals
        _log_if_long_tailed(ax, shown)
        ax.set_title(f"{m} (mean over seeds)", fontsize="medium")
        ax.set_xlabel("label (generation bin centre)")
        ax.set_ylabel("features per bin")
        ax.legend(fontsize="small")
    return _png(fig)


def _chosen_candidate(tuning: dict) -> dict | None:
    """The last candidate whose settings agree with every chosen setting it has."""
    chosen = tuning.get("chosen") or {}
    match = None
    for c in tuning.get("candidates") or []:
        common = [k for k in chosen if k in c]
        if common and all(c[k] == chosen[k] for k in common):
            match = c
    return match


def _with_candidates(entries: list[dict], key: str) -> list[dict]:
    """The entries whose ``key`` record (``tuning``, ``auto``) lists candidates, one panel each."""
    return [r for r in entries if isinstance(r.get(key), dict)
            and isinstance(r[key].get("candidates"), list)][:MAX_PANELS]  # fmt: skip


def tuning_png(entries: list[dict]) -> bytes | None:
    tuned = _with_candidates(entries, "tuning")
    if not tuned:
        return None
    fig, axes = _figure(len(tuned), min(len(tuned), 2))
    for ax, r in zip(axes, tuned, strict=True):
        t = r["tuning"]
        cands = [c for c in t["candidates"] if isinstance(c, dict)
                 and c.get("val_score") is not None and c.get("ratio") is not None]  # fmt: skip
        lines: dict[str, list] = {}
        for c in cands:
            if c.get("stage") == "ratio-allocation":
                lines.setdefault(str(c.get("allocation")), []).append(c)
        for alloc, cs in lines.items():
            cs = sorted(cs, key=lambda c: c["ratio"])
            ax.plot([c["ratio"] for c in cs], [c["val_score"] for c in cs], "o-", ms=3,
                    label=f"allocation {alloc}")  # fmt: skip
        rest = [c for c in cands if c.get("stage") != "ratio-allocation"]
        for stage in dict.fromkeys(str(c.get("stage")) for c in rest):
            cs = [c for c in rest if str(c.get("stage")) == stage]
            ax.scatter([c["ratio"] for c in cs], [c["val_score"] for c in cs], s=14,
                       marker="x", label=f"stage {stage}")  # fmt: skip
        if t.get("baseline_score") is not None:
            ax.axhline(t["baseline_score"], color="#555555", ls="--", lw=1,
                       label="baseline (ratio 0)")  # fmt: skip
        best = _chosen_candidate(t)
        chosen = t.get("chosen") or {}
        if best is not None:
            ax.scatter([best["ratio"]], [best["val_score"]], s=140, marker="*", color="#c8453c",
                       zorder=5, label="chosen")  # fmt: skip
        elif chosen.get("ratio") == 0 and t.get("baseline_score") is not None:
            ax.scatter([0], [t["baseline_score"]], s=140, marker="*", color="#c8453c", zorder=5,
                       label="chosen (baseline)")  # fmt: skip
        ax.set_title(f"{r['method']}, seed {r.get('seed')}", fontsize="medium")
        ax.set_xlabel("synthetic ratio")
        crit = str(t.get("criterion") or "validation score")
        ax.set_ylabel(crit if "valid" in crit.lower() else f"validation {crit}", fontsize="small")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    return _png(fig)


def auto_png(entries: list[dict]) -> bytes | None:
    autos = _with_candidates(entries, "auto")
    if not autos:
        return None
    fig, axes = _figure(len(autos), min(len(autos), 2))
    for ax, r in zip(axes, autos, strict=True):
        a = r["auto"]
        cands = [c for c in a["candidates"] if isinstance(c, dict) and "method" in c]
        names = [str(c["method"]) for c in cands]
        scores = [np.nan if c.get("val_score") is None else float(c["val_score"]) for c in cands]
        colours = [
            "#c8453c" if c["method"] == a.get("chosen")
            else "#1f5fa8" if c.get("eligible", True) else "#c0c0c0"
            for c in cands
        ]  # fmt: skip
        ax.bar(range(len(cands)), scores, color=colours)
        ax.set_xticks(range(len(cands)), names, rotation=45, ha="right", fontsize="small")
        ax.set_title(f"{r['method']}, seed {r.get('seed')}: chose {a.get('chosen')}",
                     fontsize="medium")  # fmt: skip
        ax.set_ylabel("validation score")
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color="#c8453c", label="chosen"),
                           Patch(color="#1f5fa8", label="eligible"),
                           Patch(color="#c0c0c0", label="not eligible")],
                  fontsize="x-small")  # fmt: skip
    return _png(fig)


def draw_plots(run_dir: str | Path) -> tuple[dict[str, bytes], list[str]]:
    """Every figure the run directory has data for, as PNG bytes in memory (name -> bytes, in
    :data:`PLOTS` order), and the problems met (a figure that could not be drawn, and why). It
    writes nothing: :func:`write_plots` writes them, the multi-run page inlines them."""
    run_dir = Path(run_dir)
    runs = read_json(run_dir / "runs.json", [])
    config = read_json(run_dir / "config.json", {})
    labels = read_json(run_dir / "plots" / "labels.json")
    entries = _entries(runs)
    draw = {
        "labels": lambda: labels_png(labels),
        "per_bin_error": lambda: per_bin_error_png(entries, labels, per_bin_metric(config)),
        "generation": lambda: generation_png(entries),
        "tuning": lambda: tuning_png(entries),
        "auto": lambda: auto_png(entries),
    }
    drawn, problems = {}, []
    for name, make in draw.items():
        try:
            png = make()
        except Exception as e:  # a figure must never cost the run its results
            problems.append(f"plots/{name}.png not drawn: {type(e).__name__}: {e}")
            png = None
        if png is not None:
            drawn[name] = png
    if labels is None and (run_dir / "results.json").exists():
        problems.append("plots/labels.png not drawn: the run directory has no plots/labels.json")
    regression = ((config or {}).get("bench") or {}).get("task", "regression") == "regression"
    if regression and entries and not any(isinstance(r.get("test_per_bin"), dict) for r in entries):
        problems.append(
            "plots/per_bin_error.png not drawn: no runs.json entry has test_per_bin "
            "(a run written before per-bin errors were stored)"
        )
    return drawn, problems


def write_plots(run_dir: str | Path) -> tuple[dict[str, Path], list[str]]:
    """Draw every figure the run directory has data for into ``run_dir/plots/``.

    Returns the written plots (name -> path, in :data:`PLOTS` order) and the problems met (a
    figure that could not be drawn, and why); a stale figure of a failed plot is removed."""
    run_dir = Path(run_dir)
    drawn, problems = draw_plots(run_dir)
    written = {}
    for name in PLOTS:
        path = run_dir / "plots" / f"{name}.png"
        if name in drawn:
            written[name] = atomic_write_bytes(path, drawn[name])
        else:
            path.unlink(missing_ok=True)
    return written, problems
