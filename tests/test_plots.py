"""Figures and index.html of a run directory: drawn from its files alone, valid PNGs, one
self-contained page (figures inlined, no http(s) link), and a broken or failed run entry never
stops the page. Fast: the run directories are made by hand, or by a bench run whose method is
a stand-in that predicts without training."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from latentdiff.io import write_json
from latentdiff.metrics import per_bin_errors
from latentdiff.reporting.html import write_report
from latentdiff.reporting.plots import label_summary, write_plots


def _png_ok(path) -> bool:
    with Image.open(path) as im:
        im.verify()
        return im.format == "PNG"


def _imgs(html: str) -> list[str]:
    return re.findall(r'<img [^>]*src="([^"]+)"', html)


def _tuning() -> dict:
    cands = [{"stage": "ratio-allocation", "ratio": r, "allocation": a, "quantile": None,
              "synthetic_weight": 1.0, "split": None, "val_score": 1.0 - r / 4 + (a == "flat") / 9}
             for a in ("priority", "flat") for r in (0.1, 0.2, 0.5, 1.0)]  # fmt: skip
    cands.append({"stage": "quantile", "ratio": 0.5, "allocation": "priority", "quantile": 0.9,
                  "synthetic_weight": 1.0, "split": None, "val_score": 0.8})  # fmt: skip
    chosen = {"ratio": 0.5, "allocation": "priority", "quantile": 0.9}
    return {"criterion": "bin-balanced mse", "baseline_score": 1.02, "chosen": chosen,
            "candidates": cands}  # fmt: skip


def _fake_run_dir(path, tiny_dataset, extra_runs=()):
    """A run directory as the benchmark writes it: two methods, two seeds, per-bin errors,
    a generation report, a tuning and an auto entry, and a failed method."""
    ds = tiny_dataset
    rng = np.random.default_rng(0)
    records, runs = [], []
    for seed in (0, 1):
        for method in ("vanilla", "latentdiff-tuned"):
            pred = ds.test.y + rng.normal(0, 0.2 if method == "vanilla" else 0.15, len(ds.test))
            for region in ("all", "many", "medium", "few"):
                for metric in ("mae", "mse"):
                    records.append({"dataset": ds.name, "method": method, "seed": seed,
                                    "region": region, "metric": metric,
                                    "value": float(rng.random())})  # fmt: skip
            entry = {"method": method, "seed": seed, "seconds": 1.5,
                     "test_per_bin": per_bin_errors(ds.eval_bins, ds.test.y, pred)}  # fmt: skip
            if method != "vanilla":
                entry["per_bin"] = [
                    {"bin": k, "center": float(c), "n_real": 50 - 8 * k, "requested": 2 * k,
                     "accepted": k} for k, c in enumerate(np.linspace(0.2, 3.8, 6))
                ]  # fmt: skip
                entry |= {"n_synthetic_requested": 30, "n_synthetic_accepted": 15}
                entry["tuning"] = _tuning()
                entry["auto"] = {
                    "candidates": [{"method": "vanilla", "val_score": 1.0, "eligible": True},
                                   {"method": "lds", "val_score": 0.9, "eligible": False},
                                   {"method": "latentdiff", "val_score": 0.8, "eligible": True}],
                    "chosen": "latentdiff",
                }  # fmt: skip
            runs.append(entry)
    runs.append({"method": "smogn", "seed": 0, "error": "no rare samples to oversample"})
    runs += list(extra_runs)
    config = {"format": 2, "encoder_name": "mlp", "dataset_summary": ds.summary(),
              "bench": {"methods": ["vanilla", "latentdiff-tuned", "smogn"], "seeds": [0, 1],
                        "table_metrics": ["mae", "mse"], "train": {"epochs": 3}}}  # fmt: skip
    write_json(path / "results.json", records)
    write_json(path / "runs.json", runs)
    write_json(path / "config.json", config)
    write_json(path / "plots" / "labels.json", label_summary(ds))
    return path


PLOT_NAMES = ("labels", "per_bin_error", "generation", "tuning", "auto")


def test_every_plot_is_a_png_and_the_page_is_self_contained(tmp_path, tiny_dataset):
    run = _fake_run_dir(tmp_path, tiny_dataset)
    assert write_report(run) == []
    for name in PLOT_NAMES:
        assert _png_ok(run / "plots" / f"{name}.png"), name
    html = (run / "index.html").read_text()
    assert "<table>" in html and "latentdiff-tuned vs vanilla" in html
    imgs = _imgs(html)
    assert len(imgs) == len(PLOT_NAMES)
    assert all(src.startswith("data:image/png;base64,") for src in imgs)
    assert not re.search(r"https?://", html)
    assert "smogn, seed 0: no rare samples to oversample" in html  # the failed run is listed


def test_broken_entries_do_not_stop_the_page(tmp_path, tiny_dataset):
    broken = [
        "not a dict",
        {"method": "bmc", "seed": 0, "per_bin": [{"center": None}, "x"], "test_per_bin": {}},
        {"method": "rrt", "seed": 0, "tuning": {"candidates": [{"ratio": None}]}, "auto": {}},
        {"method": "conr", "seed": 0, "test_per_bin": {"bins": [0.5], "mae": [None]}},
    ]
    run = _fake_run_dir(tmp_path, tiny_dataset, broken)
    problems = write_report(run)
    assert all("not drawn" in p for p in problems)
    html = (run / "index.html").read_text()
    assert "<table>" in html
    assert len(_imgs(html)) >= 4


def test_a_malformed_figure_input_is_reported_and_the_others_are_drawn(tmp_path, tiny_dataset):
    run = _fake_run_dir(tmp_path, tiny_dataset)
    write_json(run / "plots" / "labels.json", {"edges": [0, 1], "train_counts": [1, 2, 3],
                                               "region_of_bin": ["few"]})  # fmt: skip
    (run / "plots" / "labels.png").write_bytes(b"stale")
    written, problems = write_plots(run)
    assert "labels" not in written and not (run / "plots" / "labels.png").exists()
    assert len(problems) == 1 and "plots/labels.png not drawn" in problems[0]
    assert set(written) == set(PLOT_NAMES) - {"labels"}


def test_a_run_with_nothing_finished_still_gets_a_page(tmp_path):
    write_json(tmp_path / "runs.json", [{"method": "vanilla", "seed": 0, "error": "diverged"}])
    write_json(tmp_path / "config.json", {"format": 2, "bench": {"methods": ["vanilla"]}})
    write_report(tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert "No results" in html and "diverged" in html and _imgs(html) == []


def test_per_bin_errors_by_hand():
    from latentdiff.binning import Bins

    bins = Bins.from_range(0, 3, n_bins=3)
    got = per_bin_errors(bins, [0.5, 0.6, 2.5], [1.5, 0.6, 2.0])
    assert got["bins"] == [0.5, 1.5, 2.5] and got["n"] == [2, 0, 1]
    assert got["mae"] == [0.5, None, 0.5] and got["mse"] == [0.5, None, 0.25]


@pytest.fixture
def stand_in_method(monkeypatch):
    """Call it (after building the configuration, which asks the real methods what they use)
    to make every method a stand-in that predicts the labels plus noise, with LatentDiff's
    generation report."""
    import latentdiff.methods
    from latentdiff.methods.base import MethodOutput

    class StandIn:
        def __init__(self, name):
            self.name = name

        def run(self, ctx):
            rng = np.random.default_rng(ctx.seed)
            ds = ctx.dataset
            preds = {sp: getattr(ds, sp).y + rng.normal(0, 0.3, len(getattr(ds, sp)))
                     for sp in ("val", "test")}  # fmt: skip
            info = {}
            if self.name == "latentdiff":
                info["per_bin"] = [{"bin": 0, "center": 1.0, "n_real": 9, "requested": 4,
                                    "accepted": 3}]  # fmt: skip
            return MethodOutput(preds, info)

    # RunContext.run_method looks the method up in the registry module when it runs one
    return lambda: monkeypatch.setattr(
        latentdiff.methods, "get_method", lambda name, options: StandIn(name)
    )


def test_run_bench_writes_the_figures_and_the_page(tmp_path, tiny_dataset, stand_in_method):
    from latentdiff.bench import run_bench
    from latentdiff.settings import BenchConfig

    cfg = BenchConfig(methods=("vanilla", "latentdiff"), seeds=(0, 1), progress=False)
    stand_in_method()
    run_bench(cfg, tmp_path, dataset=tiny_dataset)
    runs = json.loads((tmp_path / "runs.json").read_text())
    pb = runs[0]["test_per_bin"]
    assert len(pb["bins"]) == len(pb["mae"]) == len(pb["n"]) == tiny_dataset.eval_bins.n_bins
    assert sum(pb["n"]) == len(tiny_dataset.test)
    labels = json.loads((tmp_path / "plots" / "labels.json").read_text())
    assert sum(labels["train_counts"]) == len(tiny_dataset.train)
    for name in ("labels", "per_bin_error", "generation"):
        assert _png_ok(tmp_path / "plots" / f"{name}.png")
    assert not (tmp_path / "plots" / "tuning.png").exists()
    assert len(_imgs((tmp_path / "index.html").read_text())) == 3


def test_a_plotting_failure_keeps_the_results(tmp_path, tiny_dataset, stand_in_method,
                                              monkeypatch, capsys):  # fmt: skip
    import latentdiff.reporting.html as H
    from latentdiff.bench import run_bench
    from latentdiff.settings import BenchConfig

    def boom(run_dir):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(H, "write_report", boom)
    cfg = BenchConfig(methods=("vanilla",), seeds=(0,), progress=False)
    stand_in_method()
    assert run_bench(cfg, tmp_path, dataset=tiny_dataset)  # the records are returned
    assert (tmp_path / "results.md").exists() and (tmp_path / "results.json").exists()
    err = capsys.readouterr().err
    assert "warning" in err and "plots and index.html not written" in err and "no fonts" in err


def test_report_html_redraws_a_run_directory(tmp_path, tiny_dataset, capsys):
    from latentdiff.cli import main

    run = _fake_run_dir(tmp_path / "run", tiny_dataset)
    assert main(["report", str(run), "--html"]) == 0
    assert str(run / "index.html") in capsys.readouterr().out
    assert len(_imgs((run / "index.html").read_text())) == len(PLOT_NAMES)
    assert main(["report", str(tmp_path / "nothing"), "--html"]) == 2
    assert "no config.json" in capsys.readouterr().err
