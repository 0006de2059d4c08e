"""The feature-quality analysis of a run directory: :func:`analyse_run` reads the files the
benchmark kept (:mod:`.sample`) and returns every number as one JSON-able dict;
:func:`write_analysis` writes it as ``analysis.json`` with the figures (:mod:`.figures`).

Schema of :func:`analyse_run`'s dict (format 1; every list in the run's seed, then method order):

* ``format``, ``dataset``, ``settings`` (the analysis constants: ``min_rows``, ``hist_bins``,
  ``smoothing``, ``neighbour_metric``);
* ``predictions``: per (method, seed) with an analysis file, ``{method, seed, n, r2}`` (R^2 of
  the test predictions, ``sklearn.metrics.r2_score``);
* ``features``: per LatentDiff-family (method, seed), ``{method, seed, generator, real_rows,
  synthetic_rows, real_total, synthetic_total, overall, regions, bins}`` with the groups of
  :func:`latentdiff.analysis.quality.feature_quality`;
* ``summary``: per (method, group, metric), ``{method, group, metric, mean, std, seeds}`` over
  the seeds where the number exists (group ``overall`` or a shot region; metric one of
  :data:`latentdiff.analysis.quality.SCALARS`; ``std`` the sample standard deviation, None for
  one seed);
* ``missing``: the (method, seed) pairs of ``runs.json`` without an analysis file (a run made
  before issue 13, or with ``analysis_rows = 0``), as ``"METHOD seed S"``.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from sklearn.metrics import r2_score

from ..binning import REGIONS
from ..io import atomic_write_bytes, write_json
from ..reporting.plots import _png
from .divergence import HIST_BINS, SMOOTHING
from .quality import MIN_ROWS, SCALARS, feature_quality, scalars
from .sample import AnalysisFile

FORMAT = 1


def _read_run(run_dir: Path) -> tuple[dict, list[dict]]:
    run_dir = Path(run_dir)
    for name in ("config.json", "runs.json"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir} is not a finished run directory (no {name})")
    config = json.loads((run_dir / "config.json").read_text())
    runs = [r for r in json.loads((run_dir / "runs.json").read_text()) if "error" not in r]
    return config, runs


def analysis_files(run_dir, methods=None, seeds=None) -> tuple[list[tuple], list[str]]:
    """``([(method, seed, path)], missing)``: the analysis files ``runs.json`` names (those of
    ``methods`` and ``seeds`` when given) and the pairs without one."""
    run_dir = Path(run_dir)
    _, runs = _read_run(run_dir)
    found, missing = [], []
    for r in runs:
        if (methods and r["method"] not in methods) or (seeds and int(r["seed"]) not in seeds):
            continue
        entry = r.get("analysis") or {}
        path = run_dir / entry["file"] if "file" in entry else None
        if path is None or not path.is_file():
            missing.append(f"{r['method']} seed {r['seed']}")
        else:
            found.append((r["method"], int(r["seed"]), path))
    return found, missing


def analyse_run(run_dir, methods=None, seeds=None) -> dict:
    """Every feature-quality number of the run in ``run_dir`` (see the module text); ``methods``
    and ``seeds`` restrict it. A directory without ``config.json`` / ``runs.json`` is refused."""
    config, _ = _read_run(Path(run_dir))
    files, missing = analysis_files(run_dir, methods, seeds)
    predictions, features = [], []
    for method, seed, path in files:
        f = AnalysisFile.read(path)
        predictions.append({"method": method, "seed": seed, "n": int(f.test_true.size),
                            "r2": float(r2_score(f.test_true, f.test_pred))})  # fmt: skip
        if f.sample is not None:
            s = f.sample
            head = {"method": method, "seed": seed, "generator": s.meta.get("generator"),
                    "real_rows": int(s.real_y.size), "synthetic_rows": int(s.syn_y.size),
                    "test_rows": int(s.test_y.size),
                    "real_total": int(sum(s.meta["real_counts"])),
                    "synthetic_total": int(sum(s.meta["syn_counts"]))}  # fmt: skip
            features.append({**head, **feature_quality(s)})
    return {
        "format": FORMAT,
        "dataset": config.get("dataset_summary", {}).get("name"),
        "settings": {
            "min_rows": MIN_ROWS,
            "hist_bins": HIST_BINS,
            "smoothing": SMOOTHING,
            "neighbour_metric": "cosine",
        },  # fmt: skip
        "predictions": predictions,
        "features": features,
        "summary": summarise(features),
        "missing": missing,
    }


def summarise(features: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of each scalar, per method and group."""
    out = []
    methods = list(dict.fromkeys(f["method"] for f in features))
    for method in methods:
        mine = [f for f in features if f["method"] == method]
        for group in ("overall", *REGIONS):
            values = {m: [] for m in SCALARS}
            for f in mine:
                g = f["overall"] if group == "overall" else f["regions"].get(group)
                if g is None:
                    continue
                for m, v in scalars(g).items():
                    if v is not None:
                        values[m].append(v)
            for m, v in values.items():
                if v:
                    out.append({"method": method, "group": group, "metric": m,
                                "mean": statistics.fmean(v),
                                "std": statistics.stdev(v) if len(v) > 1 else None,
                                "seeds": len(v)})  # fmt: skip
    return out


def write_analysis(run_dir, out=None, methods=None, seeds=None, figure_seeds="first",
                   tsne: bool = True) -> tuple[Path, list[Path]]:  # fmt: skip
    """``analysis.json`` and the figures in ``out`` (default ``RUN_DIR/analysis``): the figures
    of each method for its first seed (``figure_seeds="first"``) or every seed (``"all"``).
    Returns the JSON's path and the figures'."""
    from .figures import figures

    run_dir = Path(run_dir)
    out = Path(out) if out is not None else run_dir / "analysis"
    result = analyse_run(run_dir, methods, seeds)
    json_path = write_json(out / "analysis.json", result)
    files, _ = analysis_files(run_dir, methods, seeds)
    pngs, done = [], set()
    for method, seed, _path in files:
        if figure_seeds == "first" and method in done:
            continue
        done.add(method)
        for name, drawn in figures(run_dir, method, seed, tsne=tsne).items():
            path = out / "figures" / f"{method}-seed{seed}-{name}.png"
            pngs.append(atomic_write_bytes(path, _png(drawn.figure)))
    return json_path, pngs


#: the columns of :func:`summary_markdown`: (metric, header)
SUMMARY_COLUMNS = (
    ("cosine.real_syn.mean", "cos real-syn"),
    ("cosine.real_real.mean", "cos real-real"),
    ("neighbours.cosine_distance.median", "NN dist (median)"),
    ("neighbours.real_to_real.mean", "real NN dist"),
    ("neighbours.label_gap.median", "NN label gap (median)"),
    ("activations.mean_correlation", "r(means)"),
    ("divergence.kl", "KL"),
    ("divergence.js", "JS"),
    ("divergence.wasserstein", "W1"),
    ("frechet", "Frechet"),
)


def summary_markdown(result: dict) -> str:
    """Markdown tables of :func:`analyse_run`'s ``summary``: per method and group, mean ± std
    over seeds of the main numbers, for the synthetic features and for the held-out real ones
    (the reference); then R^2 per method."""
    rows = {}
    for e in result["summary"]:
        rows.setdefault((e["method"], e["group"]), {})[e["metric"]] = e
    lines = []
    for title, prefix in (("synthetic features against the real training sample", ""),
                          ("reference: held-out real (test) features against the same sample",
                           "reference.")):  # fmt: skip
        columns = [(prefix + m, h) for m, h in SUMMARY_COLUMNS if prefix + m in SCALARS]
        lines += [f"{title}:", "", "| method | group | " + " | ".join(h for _, h in columns) + " |",
                  "|" + "---|" * (len(columns) + 2)]  # fmt: skip
        for (method, group), cells in rows.items():
            vals = [_cell(cells.get(m)) for m, _ in columns]
            lines.append(f"| {method} | {group} | " + " | ".join(vals) + " |")
        lines.append("")
    r2 = {}
    for p in result["predictions"]:
        r2.setdefault(p["method"], []).append(p["r2"])
    lines += ["| method | test R² |", "|---|---|"]
    lines += [f"| {m} | {_cell({'mean': statistics.fmean(v), 'std': _sd(v)})} |"
              for m, v in r2.items()]  # fmt: skip
    return "\n".join(lines) + "\n"


def _sd(v: list[float]) -> float | None:
    return statistics.stdev(v) if len(v) > 1 else None


def _cell(e: dict | None) -> str:
    if e is None:
        return "-"
    sd = "" if e.get("std") is None else f" ± {e['std']:.3g}"
    return f"{e['mean']:.3g}{sd}"
