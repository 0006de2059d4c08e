"""``latentdiff bench --task classification``: methods x seeds on a long-tailed classification
data set, in the same run directory as the regression benchmark (:mod:`latentdiff.rundir`):

* ``config.json``: ``{"format", "bench", "encoder_name", "encoder", "dataset_summary",
  "data_fingerprint"}``, ``bench`` the whole :class:`latentdiff.settings.BenchConfig` with
  ``task = "classification"`` and its :class:`latentdiff.settings.ClassificationConfig`;
* ``results.json``: records ``{dataset, method, seed, region, metric, value}``, metrics
  ``accuracy`` and ``macro_f1`` (:mod:`.metrics`) per region (all, many, medium, few);
* ``runs.json``: per (method, seed) the wall ``seconds`` (below), stage 1's best epoch and
  validation accuracy, and LDMLR's generation counts; or the error that stopped the pair;
* ``results.md``, ``plots/labels.json`` (training count per class, by region), ``index.html``.

Stage 1 is trained once per seed and shared by every method of that seed
(:func:`.methods.run_classification`), so the methods are compared on one encoder (paired
differences). ``resume``: the (method, seed) pairs in ``runs.json`` are kept; a seed with
pairs left trains its stage 1 again (seeded: the same weights) and runs only those, so a
resumed run's records equal an uninterrupted one's.

``seconds`` of a pair: the wall seconds :func:`.methods.run_classification` spent on that method
(``details["seconds"]``); a shared part (a stage-1 network, a fitted generator, a fine-tuned
head) is counted once, under the first method of the call that needs it: with ``ce`` first, stage
1 is ce's and ``label-shift`` costs only its adjustment. A pair run on ``resume`` without the
methods before it carries the shared parts it needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..io import atomic_write_text, write_json
from ..progress import progress_bar
from ..rundir import open_run_dir, resumed_results
from ..settings import BenchConfig, ClassificationConfig, LDMLRConfig
from .longtail import REGIONS, LTDataset
from .methods import LDMLRSettings, run_classification

#: the baseline every method's change and paired difference is taken against
BASELINE = "ce"
#: the feature size of stage 1's encoders (:func:`.model.build_classifier`'s default)
FEATURE_DIM = 64


def load_classification_data(c: ClassificationConfig) -> LTDataset:
    """The long-tailed data set ``c`` names (its settings already checked and resolved)."""
    from .loaders import load_class_table, load_digits_lt, load_mnist_lt

    if c.dataset == "csv":
        return load_class_table(c.data, c.target, imbalance_factor=c.imbalance_factor)
    if c.dataset == "mnist-lt":
        return load_mnist_lt(c.data, c.imbalance_factor)
    return load_digits_lt(c.imbalance_factor)


def ldmlr_settings(c: LDMLRConfig | None) -> LDMLRSettings:
    """The typed :class:`LDMLRConfig` as :func:`.methods.run_classification` takes it."""
    if c is None:
        return LDMLRSettings()
    return LDMLRSettings(target=c.target, ratio=c.ratio, use=c.use, generator=c.generator,
                         gamma=c.gamma, lr=c.lr, epochs=c.epochs,
                         diffusion=c.diffusion.to_dict())  # fmt: skip


def fingerprint(ds: LTDataset) -> str:
    """SHA-256 of the splits' inputs and class codes, the class names and the region
    thresholds: a resumed run must see the same data."""
    from ..io import fingerprint as digest

    parts: list = [ds.name, ds.modality, [str(c) for c in ds.classes], list(ds.thresholds)]
    for part in ("train", "val", "test"):
        split = getattr(ds, part)
        parts += [part, np.asarray(split.X), split.y]
    return digest(*parts)


def dataset_summary(ds: LTDataset) -> dict:
    """:meth:`LTDataset.summary` with the test rows per region (as the regression summary)."""
    region = ds.region_of_class[ds.test.y]
    counts = {"all": int(ds.test.y.size), **{r: int((region == r).sum()) for r in REGIONS}}
    return {**ds.summary(), "test_region_counts": counts}


def label_summary(ds: LTDataset) -> dict:
    """``plots/labels.json`` of a classification run: one "bin" per class (code k spans
    [k - 0.5, k + 0.5]), its training and test count and its region."""
    k = np.arange(ds.n_classes, dtype=np.float64)
    return {
        "dataset": ds.name,
        "regions": "classes by training count: many > 100, medium 20-100, few < 20",
        "edges": np.append(k - 0.5, ds.n_classes - 0.5).tolist(),
        "centers": k.tolist(),
        "classes": [str(c) for c in ds.classes],
        "train_counts": ds.train_counts.tolist(),
        "test_counts": np.bincount(ds.test.y, minlength=ds.n_classes).tolist(),
        "region_of_bin": [str(r) for r in ds.region_of_class],
    }


def run_classification_bench(config: BenchConfig, out, resume: bool = False,
                             overwrite: bool = False, dataset: LTDataset | None = None
                             ) -> list[dict]:  # fmt: skip
    """Run every method for every seed (``config.task == "classification"``), write the run
    directory ``out``, return the records. ``resume`` continues the run in ``out`` (same
    configuration and data, checked); ``overwrite`` replaces it; ``dataset``: already loaded."""
    if config.task != "classification":
        raise ValueError(f"config.task is {config.task!r}: run_bench runs the regression task")
    out = Path(out)
    saved = open_run_dir(out, resume, overwrite)
    c = config.classification
    ds = load_classification_data(c) if dataset is None else dataset
    key = fingerprint(ds)
    records: list[dict] = []
    runs: list[dict] = []
    if resume:
        records, runs = resumed_results(out, saved, config, key)
    else:
        write_json(out / "config.json", {
            "format": BenchConfig.FORMAT,
            "bench": config.to_dict(),
            "encoder_name": c.encoder,
            "encoder": {"name": c.encoder, "feature_dim": FEATURE_DIM},
            "dataset_summary": dataset_summary(ds),
            "data_fingerprint": key,
        })  # fmt: skip
    write_json(out / "plots" / "labels.json", label_summary(ds))
    done = {(r["method"], int(r["seed"])) for r in runs}
    settings = ldmlr_settings(c.ldmlr)
    for seed in progress_bar(config.seeds, "seeds", config.progress):
        todo = [m for m in config.methods if (m, int(seed)) not in done]
        if todo:
            _run_seed(config, ds, int(seed), todo, settings, out, records, runs)
    _write_tables(out, config, ds, records, runs)
    return records


def _run_seed(config, ds, seed, todo, settings, out, records, runs) -> None:
    """The pairs ``todo`` of one seed on one shared stage 1; written as soon as known."""
    from ..bench import _in_order

    c = config.classification
    try:
        rows, details = run_classification(ds, todo, seed, encoder=c.encoder, epochs=c.epochs,
                                           lr=c.lr, ldmlr=settings)  # fmt: skip
    except ValueError as e:  # the seed's methods cannot run here: record it, go on
        for m in todo:
            runs.append({"method": m, "seed": seed, "error": str(e)})
        print(f"latentdiff: seed {seed} failed: {e}", file=sys.stderr)
    else:
        for m in todo:
            entry = {"method": m, "seed": seed, "seconds": float(details["seconds"][m]),
                     "stage1": details.get("stage1")}  # fmt: skip
            if "ldmlr" in m and "ldmlr" in details:
                entry["ldmlr"] = details["ldmlr"]
            runs.append(entry)
        records += rows
        _in_order(records, config)
        write_json(out / "results.json", records)
    _in_order(runs, config)
    write_json(out / "runs.json", runs)  # last: a pair counts as done once it is here


def _write_tables(out: Path, config: BenchConfig, ds: LTDataset, records, runs) -> None:
    from ..reporting.tables import run_tables

    summ = dataset_summary(ds)
    counts = ", ".join(f"{k} {v}" for k, v in summ["test_region_counts"].items())
    description = (
        f"{ds.n_classes} classes, training counts {summ['train_counts']} (imbalance factor "
        f"{summ['imbalance_factor']:.4g}); regions by training count per class (many > 100, "
        f"few < 20): {summ['regions']} classes. Test rows (class-balanced): {counts}. "
        f"Accuracy and macro-F1 as fractions; changes against {BASELINE} are differences."
    )
    note = (
        "Wall seconds per seed; a shared part (stage 1, a generator) is trained once per "
        "seed and counted under the first method, in --methods order, that needs it."
    )
    table = run_tables(records, runs, ds.name, description, config.table_metrics, note,
                       baseline=BASELINE)  # fmt: skip
    atomic_write_text(out / "results.md", table)
    try:
        from ..reporting.html import write_report

        problems = write_report(out)
    except Exception as e:  # the results are written; the page is extra
        problems = [f"index.html not written: {type(e).__name__}: {e}"]
    for p in problems:
        print(f"latentdiff: warning: {out}: {p}", file=sys.stderr)
