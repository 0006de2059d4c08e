"""A benchmark's run directory: what is in it, when it may be written, and how an interrupted
run is taken up again.

* ``config.json``: ``{"format", "bench", "encoder_name", "encoder", "dataset_summary",
  "data_fingerprint"}``; ``bench`` is the whole :class:`latentdiff.settings.BenchConfig`;
* ``results.json``: records ``{dataset, method, seed, region, metric, value}`` (test split);
* ``runs.json``: per (method, seed) runtimes and diagnostics, or the error that stopped it;
* ``results.md``: the tables; ``checkpoints/``: the networks and a generator in training;
* ``plots/`` (``labels.json`` and the figures) and ``index.html``: the figures and the page of
  :mod:`latentdiff.reporting.plots` and :mod:`latentdiff.reporting.html`;
* ``analysis/seed-S/METHOD.safetensors``: per (method, seed) the test predictions and, for a
  LatentDiff-family method, a bounded sample of its real and synthetic features
  (:mod:`latentdiff.analysis.sample`; ``runs.json`` names the file under ``analysis``), what
  ``latentdiff analyse`` reads.

A directory that holds a run is never overwritten unless asked (``overwrite``), and a run is
resumed only with the configuration and the data it was started with.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .io import write_json
from .settings import BenchConfig

FILES = ("config.json", "results.json", "runs.json", "results.md", "index.html")


class IncompleteRun(RuntimeError):
    """Some (method, seed) pairs stopped with an unexpected error (a bug, a lost Ray worker) and
    were not recorded; the others are, and ``--resume`` runs the missing ones again."""


def _read_json(path: Path, default):
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e})") from None


def read_run_config(out: str | Path) -> dict:
    """The ``config.json`` of a run directory, or an error naming why there is no run to resume
    there (none, not a latentdiff run, or one written in an older format)."""
    path = Path(out) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"no run to resume in {out} (it has no config.json)")
    saved = _read_json(path, None)
    if not isinstance(saved, dict) or not isinstance(saved.get("bench"), dict):
        raise ValueError(f"{path} is not a latentdiff run configuration")
    if saved.get("format", 1) != BenchConfig.FORMAT:
        raise ValueError(
            f"{out} was started by an older latentdiff (config format {saved.get('format', 1)}, "
            f"this one writes {BenchConfig.FORMAT}); it cannot be resumed: start a new run"
        )
    return saved


def saved_config(out: str | Path) -> BenchConfig:
    """The :class:`BenchConfig` a run directory was started with."""
    return BenchConfig.from_dict(read_run_config(out)["bench"])


def open_run_dir(out: str | Path, resume: bool, overwrite: bool) -> dict | None:
    """Make ``out`` ready for a run: refuse a file, refuse a directory that holds a run unless
    ``resume`` or ``overwrite`` (then empty it). Returns the saved configuration when resuming."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a directory")
    saved = read_run_config(out) if resume else None  # before anything is created
    if not resume and (out / "config.json").exists():
        if not overwrite:
            raise FileExistsError(
                f"{out} already holds a run: continue it with --resume {out}, start it again "
                f"with --overwrite, or choose another --out"
            )
        for name in FILES:
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
        shutil.rmtree(out / "plots", ignore_errors=True)
        shutil.rmtree(out / "analysis", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    return saved


def write_config(out: Path, config: BenchConfig, encoder_name: str, encoder, dataset) -> None:
    from .methods.variants import method_settings

    content = {
        "format": BenchConfig.FORMAT,
        "bench": config.to_dict(),
        "encoder_name": encoder_name,
        "encoder": encoder.config(),
        "dataset_summary": dataset.summary(),
        "data_fingerprint": dataset.fingerprint(),
    }
    variants = method_settings(config.methods)
    if variants:  # method variants (latentdiff[ratio=0.4]): the settings each puts in place
        content["method_settings"] = variants
    write_json(out / "config.json", content)


def resumed_results(out: Path, saved: dict, config: BenchConfig, data_key: str):
    """The records and runs of a run directory to continue, after checking that it was made
    (``saved``: its :func:`read_run_config`) with this configuration and this data. Records of a
    pair that never reached ``runs.json`` (killed between the two writes) are dropped; that pair
    runs again."""
    theirs = BenchConfig.from_dict(saved["bench"]).comparable()
    if theirs != config.comparable():
        raise ValueError(
            f"the configuration differs from the one {out} was started with; resume with the "
            f"saved configuration (latentdiff run --resume {out}) or start a new run"
        )
    if saved.get("data_fingerprint") != data_key:
        raise ValueError(
            f"the data differ from the data {out} was started on (its fingerprint changed): "
            f"start a new run to use the new data"
        )
    runs = _read_json(out / "runs.json", [])
    done = {(r["method"], r["seed"]) for r in runs}
    records = [r for r in _read_json(out / "results.json", []) if (r["method"], r["seed"]) in done]
    return records, runs
