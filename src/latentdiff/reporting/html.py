"""A run directory's ``index.html``: one self-contained page (plain HTML and a little CSS, the
figures inlined as base64 ``data:`` URIs, no external asset, so the one file can be mailed and
read offline) with the configuration, the results tables (from ``results.json``), the runtimes,
the failed runs and the figures of :mod:`.plots`. It reads only the directory's files."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

import numpy as np

from ..io import atomic_write_text
from ..metrics import LOWER_IS_BETTER, REGION_COLUMNS
from .plots import PLOTS, read_json, write_plots
from .runs import format_mean_std, number, summarise

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f1f1f1; } tr.change td { color: #555; font-style: italic; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: 600; } dd { margin: 0; font-family: ui-monospace, monospace; font-size: 0.9em; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; } .problem { color: #a33; }
"""


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    return f"<table>\n<tr>{head}</tr>\n" + "\n".join(body) + "\n</table>"


def _change(s: dict, method: str, metric: str, region: str, baseline: str = "vanilla") -> str:
    a, b = s.get((baseline, metric, region)), s.get((method, metric, region))
    if not a or not b or (LOWER_IS_BETTER[metric] and np.mean(a) == 0):
        return "n/a"
    if LOWER_IS_BETTER[metric]:
        return f"{(np.mean(b) - np.mean(a)) / abs(np.mean(a)) * 100:+.1f} %"
    return f"{np.mean(b) - np.mean(a):+.4f}"


def results_tables(records: list[dict], metrics, baseline: str = "vanilla") -> list[str]:
    """One HTML table per metric: mean ± std per region, then each method's change against
    ``baseline`` (vanilla; ce in a classification run): relative for errors, absolute for
    correlations, R^2, accuracy and macro-F1."""
    records = [r for r in records if isinstance(r, dict) and {"method", "metric", "region",
               "value"} <= set(r)]  # fmt: skip
    s = summarise(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    metrics = [m for m in metrics or [] if m in LOWER_IS_BETTER] or ["mae", "mse"]
    parts = []
    for metric in metrics:
        arrow = "lower is better" if LOWER_IS_BETTER[metric] else "higher is better"
        rows = [[m, *(format_mean_std(s.get((m, metric, r))) for r in REGION_COLUMNS)]
                for m in methods]  # fmt: skip
        classes = [""] * len(rows)
        if baseline in methods:
            for m in methods:
                if m != baseline:
                    rows.append([f"{m} vs {baseline}", *(_change(s, m, metric, r, baseline)
                                                         for r in REGION_COLUMNS)])  # fmt: skip
                    classes.append("change")
        parts += [f"<h3>{escape(metric.upper())} ({arrow})</h3>",
                  _table(["method", *REGION_COLUMNS], rows, classes)]  # fmt: skip
    return parts


def _runtime_table(runs: list[dict], methods: list[str]) -> str:
    rows = []
    for m in methods:
        rs = [r for r in runs if r.get("method") == m and "error" not in r]
        acc = "-"
        with_gen = [r for r in rs if r.get("n_synthetic_requested") is not None]
        if with_gen:
            got = np.mean([r.get("n_synthetic_accepted") or 0 for r in with_gen])
            acc = f"{got:.0f} / {np.mean([r['n_synthetic_requested'] for r in with_gen]):.0f}"
        secs = [r["seconds"] for r in rs if isinstance(r.get("seconds"), int | float)]
        rows.append([m, format_mean_std(secs), acc])
    return _table(["method", "seconds per seed", "synthetic accepted / requested"], rows)


def _bins_text(bins) -> str:
    try:
        return (f"{bins['n_bins']} bins of width {number(bins['width'])} over "
                f"[{number(bins['low'])}, {number(bins['high'])}]")  # fmt: skip
    except (TypeError, KeyError, ValueError):
        return str(bins)


def _config_list(config: dict) -> str:
    bench = config.get("bench") or {}
    summ = config.get("dataset_summary") or {}
    items: list[tuple[str, str]] = []
    if summ:
        items += [
            ("data set", f"{summ.get('name')} ({summ.get('modality')})"),
            ("samples", f"{summ.get('n_train')} train / {summ.get('n_val')} val / "
                        f"{summ.get('n_test')} test"),  # fmt: skip
            ("shot regions", str(summ.get("regions"))),
            *([("evaluation bins", _bins_text(summ["eval_bins"]))] if "eval_bins" in summ else []),
            ("test samples per region", ", ".join(
                f"{k} {v}" for k, v in (summ.get("test_region_counts") or {}).items())),
        ]  # fmt: skip
    items += [
        ("methods", ", ".join(bench.get("methods") or [])),
        ("seeds", ", ".join(str(s) for s in bench.get("seeds") or [])),
        ("encoder", f"{config.get('encoder_name')} {bench.get('encoder_options') or ''}".strip()),
    ]
    for key in ("method_options", "train", "sampler", "head", "classification"):
        v = bench.get(key)
        if not v:
            continue
        if isinstance(v, dict):
            flat = ", ".join(f"{k}={w}" for k, w in v.items() if not isinstance(w, dict))
            nested = [f"{k}: " + ", ".join(f"{a}={b}" for a, b in w.items())
                      for k, w in v.items() if isinstance(w, dict)]  # fmt: skip
            v = "; ".join([flat, *nested]) if flat else "; ".join(nested)
        items.append((key.replace("_", " "), str(v)))
    rows = "\n".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f"<dl>\n{rows}\n</dl>"


def _figure(name: str, path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    cap = escape(PLOTS.get(name, name))
    return (f'<figure id="{name}"><img alt="{cap}" src="data:image/png;base64,{data}">'
            f"<figcaption>{cap} (<code>plots/{name}.png</code>)</figcaption></figure>")  # fmt: skip


def index_html(run_dir: str | Path, plots: dict[str, Path], problems=()) -> str:
    """The page of a run directory, with the figures ``plots`` (name -> PNG path) inlined."""
    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json", {}) or {}
    records = read_json(run_dir / "results.json", []) or []
    runs = read_json(run_dir / "runs.json", []) or []
    if not isinstance(config, dict):
        config = {}
    runs = [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []
    records = records if isinstance(records, list) else []
    name = (config.get("dataset_summary") or {}).get("name") or run_dir.name
    seeds = sorted({r["seed"] for r in records if isinstance(r, dict) and "seed" in r})
    methods = list(dict.fromkeys(
        [r["method"] for r in records if isinstance(r, dict) and "method" in r]
        + [r["method"] for r in runs if "method" in r]))  # fmt: skip
    body = [
        f"<h1>{escape(str(name))}: latentdiff run <code>{escape(run_dir.name)}</code></h1>",
        f"<p>Test split, mean ± std (sample std) over seeds {escape(str(seeds))}.</p>",
        "<h2>Results</h2>",
    ]
    bench = config.get("bench") or {}
    baseline = "ce" if bench.get("task") == "classification" else "vanilla"
    shared = ("the vanilla network's training is counted once, under vanilla" if baseline ==
              "vanilla" else "a shared part (stage 1, a generator) is counted once, under the "
              "first method that needs it")  # fmt: skip
    if records:
        body += results_tables(records, bench.get("table_metrics"), baseline)
    else:
        body.append("<p>No results: no method finished.</p>")
    body += ["<h2>Runtime and generation</h2>",
             f"<p>Wall seconds per seed; {shared}.</p>",
             _runtime_table(runs, methods)]  # fmt: skip
    failed = [r for r in runs if "error" in r]
    if failed:
        body += ["<h2>Failed runs</h2>", "<ul>"]
        body += [f"<li>{escape(str(r.get('method')))}, seed {escape(str(r.get('seed')))}: "
                 f"{escape(str(r['error']))}</li>" for r in failed]  # fmt: skip
        body.append("</ul>")
    body += ["<h2>Configuration</h2>", _config_list(config)]
    if plots:
        body.append("<h2>Figures</h2>")
        body += [_figure(n, p) for n, p in plots.items()]
    if problems:
        body += ["<h2>Figures not drawn</h2>", "<ul>"]
        body += [f'<li class="problem">{escape(p)}</li>' for p in problems]
        body.append("</ul>")
    body.append("<p><small>Files: config.json, results.json, runs.json, results.md, plots/. "
                "Redraw with <code>latentdiff report DIR --html</code>.</small></p>")  # fmt: skip
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(str(name))}: {escape(run_dir.name)}</title>\n<style>{CSS}</style>\n"
        "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def write_report(run_dir: str | Path) -> list[str]:
    """(Re)draw the figures of a run directory and write its ``index.html``; returns the
    problems met (figures not drawn, and why). The page is written even if no figure is."""
    run_dir = Path(run_dir)
    plots, problems = write_plots(run_dir)
    atomic_write_text(run_dir / "index.html", index_html(run_dir, plots, problems))
    return problems
