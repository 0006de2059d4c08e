"""One self-contained HTML page for one or more run directories (``latentdiff report DIR ...
--out FILE.html``): for several runs a side-by-side grid first (each metric's mean ± std per
region, method by run; the per-bin figures of the runs side by side; the feature-quality
numbers of every LatentDiff-family method), then one section per run with its results tables,
runtimes, failed runs, configuration, per-bin figures (:mod:`.plots`) and the feature-quality
analysis of :mod:`latentdiff.analysis` (tables and figures of each LatentDiff-family method).

Self-contained: plain HTML and the inline CSS of :mod:`.html`, every figure a PNG inlined as a
base64 ``data:`` URI, no script, no external asset (no CDN, no web font), so the one file reads
offline. It reads the run directories and writes nothing into them.

The analysis comes from the feature files the benchmark keeps (``analysis/seed-S/METHOD
.safetensors``), computed afresh (:func:`~latentdiff.analysis.run.analyse_run`); where they are
absent but ``latentdiff analyse`` left an ``analysis.json`` (``DIR/analysis/analysis.json`` or
``DIR/analysis.json``, as under ``docs/results/``) its tables and per-bin figure are shown and
the page says the other figures need the feature files; otherwise the page says the analysis
is absent (a run made before issue 13, ``--analysis-rows 0``, a classification run)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from html import escape
from pathlib import Path

from ..metrics import LOWER_IS_BETTER, REGION_COLUMNS
from .html import CSS as RUN_CSS
from .html import _config_list, _runtime_table, _table, results_tables
from .plots import PLOTS, _png, draw_plots, read_json
from .runs import format_mean_std, ranking, summarise

CSS = (
    RUN_CSS
    + """
.scroll { overflow-x: auto; } .scroll td { white-space: nowrap; }
body { max-width: 90em; } th[colspan] { text-align: center; } td.best { font-weight: 700; }
.side { display: grid; gap: 0.8em; } .side figure { margin: 0; }
h3 { font-size: 1.05em; margin-top: 1.4em; } h4 { font-size: 0.98em; margin: 1em 0 0.3em; }
.note { color: #555; }
"""
)

#: the analysis figures in page order: name -> caption (seed 000's figures they mirror)
ANALYSIS_FIGURES = {
    "hexbin": "Predicted against true test labels, vanilla beside the method (Figure 4)",
    "labels": "Training labels per evaluation bin, regions shaded, and the accepted synthetic "
    "labels (Figures 7-12, 48)",
    "pca": "PCA of real and synthetic features: by real / synthetic, by label, explained "
    "variance (Figures 3, 42-44)",
    "tsne": "t-SNE of real and synthetic features (Figures 3, 46-47)",
    "activations": "Per-dimension means and standard deviations, synthetic against real "
    "(Figures 29-37)",
    "neighbours": "Nearest real neighbour of each synthetic feature: cosine distance and label "
    "gap (Figures 26-28, Table 9)",
    "per_bin": "KL, Jensen-Shannon, Wasserstein and Frechet distance per generation bin "
    "(Figures 38-41, Table 10)",
}
#: the side-by-side per-bin figures of several runs
SIDE_PLOTS = ("labels", "per_bin_error", "generation")

Log = Callable[[str], None]


# --- small HTML pieces ----------------------------------------------------------------------------
def img(png: bytes, alt: str) -> str:
    """An ``<img>`` whose source is the PNG itself (a base64 ``data:`` URI)."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def figure(png: bytes, caption: str, ident: str = "") -> str:
    at = f' id="{escape(ident)}"' if ident else ""
    return f"<figure{at}>{img(png, caption)}<figcaption>{escape(caption)}</figcaption></figure>"


def _p(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{escape(text)}</p>' if cls else f"<p>{escape(text)}</p>"


# --- reading a run directory ----------------------------------------------------------------------
class RunFiles:
    """What the page reads of a run directory (tolerant: a missing or malformed file reads as
    empty, and the page says so where it matters)."""

    def __init__(self, path: str | Path, index: int):
        self.path, self.index = Path(path), index
        config = read_json(self.path / "config.json", {})
        self.config = config if isinstance(config, dict) else {}
        records = read_json(self.path / "results.json")
        if records is None:  # a classification run of the first version wrote records.json
            records = read_json(self.path / "records.json", [])
        keys = {"method", "metric", "region", "value"}
        records = records if isinstance(records, list) else []
        self.records = [r for r in records if isinstance(r, dict) and keys <= set(r)]
        runs = read_json(self.path / "runs.json", [])
        self.runs = [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []

    @property
    def bench(self) -> dict:
        return self.config.get("bench") or {}

    @property
    def task(self) -> str:
        return self.bench.get("task") or self.config.get("task") or "regression"

    @property
    def baseline(self) -> str:
        """The method the others are compared with: vanilla, or ce in a classification run."""
        return "ce" if self.task == "classification" else "vanilla"

    @property
    def name(self) -> str:
        summ = self.config.get("dataset_summary") or self.config.get("dataset") or {}
        return str(summ.get("name") if isinstance(summ, dict) and summ.get("name") else
                   self.path.name)  # fmt: skip

    @property
    def label(self) -> str:
        where = "" if self.path.name == self.name else f" ({self.path.name})"
        return f"{self.index}. {self.name}{where}"

    @property
    def anchor(self) -> str:
        return f"run-{self.index}"

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys([r["method"] for r in self.records]
                                  + [r["method"] for r in self.runs if "method" in r]))  # fmt: skip

    @property
    def metrics(self) -> list[str]:
        """The table metrics: the run's own list, else those its records have, in the order of
        :data:`latentdiff.metrics.LOWER_IS_BETTER`."""
        have = {r["metric"] for r in self.records}
        named = [m for m in self.bench.get("table_metrics") or [] if m in LOWER_IS_BETTER]
        return named or [m for m in LOWER_IS_BETTER if m in have]


def check_run_dirs(dirs) -> None:
    """Refuse, before any work, a path that is not a run directory (one line naming it)."""
    if not dirs:
        raise ValueError("give at least one run directory")
    for d in dirs:
        if not (Path(d) / "config.json").is_file():
            raise FileNotFoundError(f"{d} is not a run directory (it has no config.json)")


# --- the analysis of one run ----------------------------------------------------------------------
def _saved_analysis(run_dir: Path) -> tuple[dict | None, Path | None]:
    for p in (run_dir / "analysis" / "analysis.json", run_dir / "analysis.json"):
        d = read_json(p)
        if isinstance(d, dict) and d.get("format") == 1 and "summary" in d:
            return d, p
    return None, None


class Analysis:
    """The feature-quality analysis of a run for the page: the numbers (``result``, the dict of
    :func:`~latentdiff.analysis.run.analyse_run`), where they come from (``source``: "files",
    "json" or None), and per LatentDiff-family method the figures of its first seed (PNG)."""

    def __init__(self, run: RunFiles, tsne: bool = True, log: Log | None = None):
        self.result, self.source, self.note = None, None, ""
        self.figures: dict[str, tuple[int, dict[str, bytes]]] = {}
        self.problems: list[str] = []
        files = []
        if run.task == "regression" and run.runs:
            from ..analysis.run import analysis_files

            try:
                files, _ = analysis_files(run.path)
            except (OSError, ValueError, KeyError) as e:
                self.problems.append(f"analysis files not read: {type(e).__name__}: {e}")
        if files:
            self._from_files(run, tsne, log)
            return
        saved, path = _saved_analysis(run.path)
        if saved is not None:
            self.result, self.source = saved, "json"
            self.note = (f"From {path.relative_to(run.path)} (written by latentdiff analyse); "
                         "this directory has no feature files (analysis/seed-S/METHOD"
                         ".safetensors), so only the per-bin figure, drawn from that file's "
                         "numbers, is shown.")  # fmt: skip
            self._per_bin_from_json()
        elif run.task != "regression":
            self.note = (f"No feature-quality analysis: a {run.task} run (the analysis covers "
                         "the regression task's LatentDiff family).")  # fmt: skip
        else:
            self.note = ("No feature-quality analysis: this run directory has no analysis files "
                         "(a run made before issue 13, or with --analysis-rows 0).")  # fmt: skip

    def _from_files(self, run: RunFiles, tsne: bool, log: Log | None) -> None:
        from ..analysis.figures import figures
        from ..analysis.run import analyse_run

        if log:
            log(f"{run.path}: feature-quality analysis")
        try:
            self.result = analyse_run(run.path)
        except Exception as e:  # the page keeps the results tables whatever happens here
            self.problems.append(f"analysis not computed: {type(e).__name__}: {e}")
            return
        self.source = "files"
        self.note = ("Computed from this directory's feature files (analysis/seed-S/METHOD"
                     ".safetensors); figures for each method's first seed.")  # fmt: skip
        for method in dict.fromkeys(f["method"] for f in self.result["features"]):
            seed = next(f["seed"] for f in self.result["features"] if f["method"] == method)
            if log:
                log(f"{run.path}: figures of {method} seed {seed}")
            try:
                drawn = figures(run.path, method, seed, tsne=tsne)
            except Exception as e:
                self.problems.append(f"figures of {method} seed {seed} not drawn: "
                                     f"{type(e).__name__}: {e}")  # fmt: skip
                continue
            self.figures[method] = (seed, {n: _png(d.figure) for n, d in drawn.items()})

    def _per_bin_from_json(self) -> None:
        from ..analysis.figures import per_bin_figure

        for f in self.result.get("features") or []:
            if f["method"] in self.figures or not f.get("bins"):
                continue
            try:
                png = _png(per_bin_figure(f["bins"]).figure)
            except Exception as e:
                self.problems.append(f"per-bin figure of {f['method']} not drawn: "
                                     f"{type(e).__name__}: {e}")  # fmt: skip
                continue
            self.figures[f["method"]] = (f["seed"], {"per_bin": png})

    @property
    def methods(self) -> list[str]:
        if not self.result:
            return []
        return list(dict.fromkeys(f["method"] for f in self.result.get("features") or []))

    def cell(self, method: str, group: str, metric: str) -> str:
        for e in (self.result or {}).get("summary") or []:
            if (e["method"], e["group"], e["metric"]) == (method, group, metric):
                sd = "" if e.get("std") is None else f" ± {e['std']:.3g}"
                return f"{e['mean']:.3g}{sd}"
        return "-"

    def r2(self, method: str) -> str:
        v = [p["r2"] for p in (self.result or {}).get("predictions") or [] if p["method"] == method]
        return format_mean_std(v) if v else "-"


def analysis_tables(a: Analysis) -> list[str]:
    """The summary tables of :func:`~latentdiff.analysis.run.summary_markdown` as HTML: per
    method and group, the synthetic features against the real sample, then the held-out real
    (test) features against the same sample (the reference); then test R^2 per method."""
    from ..analysis.quality import SCALARS
    from ..analysis.run import SUMMARY_COLUMNS

    out = []
    groups = ("overall", *REGION_COLUMNS[1:])
    for title, prefix in (("Synthetic features against the real training sample", ""),
                          ("Reference: held-out real (test) features against the same sample",
                           "reference.")):  # fmt: skip
        cols = [(prefix + m, h) for m, h in SUMMARY_COLUMNS if prefix + m in SCALARS]
        rows = [[m, g, *(a.cell(m, g, c) for c, _ in cols)] for m in a.methods for g in groups
                if any(a.cell(m, g, c) != "-" for c, _ in cols)]  # fmt: skip
        out += [f"<h4>{escape(title)}</h4>", '<div class="scroll">',
                _table(["method", "group", *(h for _, h in cols)], rows), "</div>"]  # fmt: skip
    preds = list(dict.fromkeys(p["method"] for p in (a.result or {}).get("predictions") or []))
    if preds:
        out += ["<h4>Test R² (mean ± std over seeds)</h4>",
                _table(["method", "test R²"], [[m, a.r2(m)] for m in preds])]  # fmt: skip
    missing = (a.result or {}).get("missing") or []
    if missing:
        out.append(_p("Pairs without an analysis file: " + ", ".join(missing) + ".", "note"))
    return out


def analysis_section(run: RunFiles, a: Analysis) -> list[str]:
    out = [f'<h3 id="{run.anchor}-analysis">Feature quality (seed 000, appendix C)</h3>']
    out.append(_p(a.note, "note"))
    if a.result is not None:
        out += analysis_tables(a)
        for method, (seed, pngs) in a.figures.items():
            out.append(f"<h4>{escape(method)}, seed {seed}</h4>")
            out += [figure(pngs[n], f"{method}, seed {seed}: {cap}", f"{run.anchor}-{method}-{n}")
                    for n, cap in ANALYSIS_FIGURES.items() if n in pngs]  # fmt: skip
    return out


# --- one run's section ----------------------------------------------------------------------------
def run_section(run: RunFiles, plots: dict[str, bytes], a: Analysis, problems) -> list[str]:
    out = [f'<h2 id="{run.anchor}">{escape(run.label)}</h2>']
    seeds = sorted({r["seed"] for r in run.records if "seed" in r})
    out.append(_p(f"Run directory {run.path}; task {run.task}; test split, mean ± std (sample "
                  f"std) over seeds {seeds}."))  # fmt: skip
    out.append("<h3>Results</h3>")
    if run.records:
        tables = results_tables(run.records, run.metrics, run.baseline)
        out += ['<div class="scroll">', *tables, "</div>"]
    else:
        out.append(_p("No results: no method finished (or the directory has no results.json)."))
    shared = "stage 1" if run.task == "classification" else "the vanilla network's training"
    out += ["<h3>Runtime and generation</h3>",
            _p(f"Wall seconds per seed; {shared} is counted once, under {run.baseline}."),
            _runtime_table(run.runs, run.methods)]  # fmt: skip
    failed = [r for r in run.runs if "error" in r]
    if failed:
        out += ["<h3>Failed runs</h3>", "<ul>"]
        out += [f"<li>{escape(str(r.get('method')))}, seed {escape(str(r.get('seed')))}: "
                f"{escape(str(r['error']))}</li>" for r in failed]  # fmt: skip
        out.append("</ul>")
    out += ["<details><summary>Configuration</summary>", _config_list(run.config), "</details>"]
    if plots:
        out.append("<h3>Per-bin figures</h3>")
        out += [figure(png, PLOTS.get(n, n), f"{run.anchor}-{n}") for n, png in plots.items()]
    out += analysis_section(run, a)
    if problems:
        out += ["<h3>Not drawn</h3>", "<ul>"]
        out += [f'<li class="problem">{escape(p)}</li>' for p in problems]
        out.append("</ul>")
    return out


# --- several runs side by side --------------------------------------------------------------------
def _grid_table(runs: list[RunFiles], metric: str) -> str:
    """Methods (rows) by run and region (columns) for one metric; the best mean of each column
    in bold."""
    present = [r for r in runs if metric in r.metrics]
    methods = list(dict.fromkeys(m for r in present for m in r.methods))
    stats = {r.index: summarise(r.records) for r in present}
    best = {}
    for r in present:
        for region in REGION_COLUMNS:
            rk = ranking(stats[r.index], r.methods, metric, region)
            if rk:
                best[(r.index, region)] = rk[0][0]
    head1 = (
        '<tr><th rowspan="2">method</th>'
        + "".join(f'<th colspan="{len(REGION_COLUMNS)}">{escape(r.label)}</th>' for r in present)
        + "</tr>"
    )
    head2 = "<tr>" + "".join(f"<th>{escape(g)}</th>" for _ in present
                             for g in REGION_COLUMNS) + "</tr>"  # fmt: skip
    body = []
    for m in methods:
        cells = []
        for r in present:
            for region in REGION_COLUMNS:
                v = stats[r.index].get((m, metric, region))
                text = format_mean_std(v) if m in r.methods else "—"
                cls = ' class="best"' if best.get((r.index, region)) == m else ""
                cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append(f"<tr><td>{escape(m)}</td>" + "".join(cells) + "</tr>")
    return '<div class="scroll"><table>\n' + "\n".join([head1, head2, *body]) + "\n</table></div>"


def side_by_side(runs: list[RunFiles], plots: dict[int, dict[str, bytes]],
                 analyses: dict[int, Analysis]) -> list[str]:  # fmt: skip
    out = ['<h2 id="side-by-side">Side by side</h2>',
           _p("Each metric's mean ± std over seeds per region, one column group per run "
              "directory; bold: the best mean of the column within its run; —: the method is "
              "not in that run.")]  # fmt: skip
    metrics = list(dict.fromkeys(m for r in runs for m in r.metrics))
    for metric in metrics:
        arrow = "lower is better" if LOWER_IS_BETTER[metric] else "higher is better"
        out += [f"<h3>{escape(metric.upper())} ({arrow})</h3>", _grid_table(runs, metric)]
    for name in SIDE_PLOTS:
        have = [r for r in runs if name in plots[r.index]]
        if not have:
            continue
        out += [
            f"<h3>{escape(PLOTS[name])}</h3>",
            f'<div class="side" style="grid-template-columns: repeat({len(have)}, 1fr)">',
        ]
        out += [figure(plots[r.index][name], r.label) for r in have]
        out.append("</div>")
    rows = []
    for r in runs:
        a = analyses[r.index]
        for m in a.methods:
            rows.append([r.label, m, *(a.cell(m, "overall", c) for c, _ in _SIDE_ANALYSIS),
                         a.r2(m)])  # fmt: skip
    out.append("<h3>Feature quality, overall (mean ± std over seeds)</h3>")
    if rows:
        out.append(
            '<div class="scroll">'
            + _table(["run", "method", *(h for _, h in _SIDE_ANALYSIS), "test R²"], rows)
            + "</div>"
        )
    absent = [r.label for r in runs if not analyses[r.index].methods]
    if absent:
        out.append(_p("No feature-quality analysis in: " + "; ".join(absent) + ".", "note"))
    return out


_SIDE_ANALYSIS = (
    ("cosine.real_syn.mean", "cos real-syn"),
    ("neighbours.cosine_distance.median", "NN dist (median)"),
    ("activations.mean_correlation", "r(means)"),
    ("divergence.kl", "KL"),
    ("divergence.js", "JS"),
    ("divergence.wasserstein", "W1"),
    ("frechet", "Frechet"),
    ("reference.frechet", "Frechet, held-out real"),
)


# --- the page -------------------------------------------------------------------------------------
def report_page(run_dirs, tsne: bool = True, log: Log | None = None) -> tuple[str, list[str]]:
    """The page of ``run_dirs`` and the problems met (figures or analyses not drawn, and why;
    the page shows them too). ``tsne=False`` skips the t-SNE figures (the slow part)."""
    check_run_dirs(run_dirs)
    runs = [RunFiles(d, i + 1) for i, d in enumerate(run_dirs)]
    plots, analyses, problems = {}, {}, {}
    for r in runs:
        if log:
            log(f"{r.path}: per-bin figures")
        plots[r.index], problems[r.index] = draw_plots(r.path)
        analyses[r.index] = Analysis(r, tsne=tsne, log=log)
        problems[r.index] += analyses[r.index].problems
    title = "latentdiff report: " + ", ".join(r.name for r in runs)
    body = [f"<h1>{escape(title)}</h1>",
            _p(f"{len(runs)} run director{'y' if len(runs) == 1 else 'ies'}, read from their "
               "files (config.json, results.json, runs.json, plots/labels.json, analysis/). "
               "Written by latentdiff report DIR ... --out FILE.html.")]  # fmt: skip
    toc = ([('<a href="#side-by-side">Side by side</a>')] if len(runs) > 1 else []) + [
        f'<a href="#{r.anchor}">{escape(r.label)}</a>' for r in runs
    ]
    body += ["<nav><ol>", *(f"<li>{t}</li>" for t in toc), "</ol></nav>"]
    if len(runs) > 1:
        body += side_by_side(runs, plots, analyses)
    for r in runs:
        body += run_section(r, plots[r.index], analyses[r.index], problems[r.index])
    html = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")  # fmt: skip
    flat = [f"{r.path}: {p}" for r in runs for p in problems[r.index]]
    return html, flat
