"""Benchmarks: methods x seeds on one data set, with one record per (method, seed, region,
metric) and a mean +- std table.

Output directory:
* ``results.json``: list of records ``{dataset, method, seed, region, metric, value}`` (test split)
* ``results.md``: mean +- std per region over seeds, the baseline beside each method
* ``config.json``: the full configuration of the run
* ``runs.json``: per (method, seed) diagnostics: runtimes, validation metrics, LatentDiff's
  acceptance per bin
* ``checkpoints/seed-S/``: every trained network (``network-NAME.safetensors``) and, while a
  head method runs, its generator's training state (``generator/``)

Every file is written atomically. A run killed at any point continues with
``run_bench(config, out, resume=True)`` (``latentdiff run --resume DIR``): the (method, seed)
pairs in ``runs.json`` are kept, trained networks are loaded from their checkpoints, a network
in training continues after its last finished epoch, a generator from its last training
checkpoint, and the results equal those of an uninterrupted run bit for bit (CPU).
The data split is the same for every seed (``split_seed``); seeds change initialisation, batch
order, dropout, diffusion noise and generation.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .binning import REGIONS
from .data.base import DIRDataset
from .data.registry import load_dataset
from .encoders import DEFAULT_ENCODER, make_encoder
from .io import atomic_write_text, write_json
from .methods import RunContext, get_method
from .metrics import LOWER_IS_BETTER, METRICS, region_counts, shot_metrics
from .training import HeadConfig, TrainConfig

REGION_COLUMNS = ("all", *REGIONS)


@dataclass
class Preset:
    """Per-data-set defaults: the table's metrics and the stage-1 optimisation."""

    metrics: tuple[str, ...]
    train: TrainConfig


PRESETS: dict[str, Preset] = {
    "diamonds": Preset(("mae", "mse", "r2"), TrainConfig(epochs=60, patience=10)),
    "california-housing": Preset(("mse", "r2"), TrainConfig(epochs=100, patience=15)),
    "csv": Preset(("mae", "mse", "r2"), TrainConfig(epochs=100, patience=15)),
    "stsb-dir": Preset(("mse", "pearson"), TrainConfig(epochs=30, batch_size=128, patience=5)),
    "agedb-dir": Preset(
        ("mae", "gm"),
        TrainConfig(epochs=90, loss="l1", select_metric="mae", lr_milestones=(60, 80)),
    ),
    "imdb-wiki-dir": Preset(
        ("mae", "gm"),
        TrainConfig(epochs=90, loss="l1", select_metric="mae", lr_milestones=(60, 80)),
    ),
}


@dataclass
class BenchConfig:
    """Everything a benchmark run depends on; written whole to ``config.json``."""

    dataset: str
    data: str | None = None
    target: str | None = None
    image_root: str | None = None
    methods: tuple[str, ...] = ("vanilla", "latentdiff")
    method_options: dict = field(default_factory=dict)
    seeds: tuple[int, ...] = (0, 1, 2)
    regions: str = "dir"
    dataset_kwargs: dict = field(default_factory=dict)
    encoder: str | None = None
    encoder_kwargs: dict = field(default_factory=dict)
    train: TrainConfig | None = None
    sampler: dict = field(default_factory=dict)
    head: HeadConfig = field(default_factory=HeadConfig)
    table_metrics: tuple[str, ...] | None = None
    progress: bool = True

    def __post_init__(self):
        if not self.methods:
            raise ValueError("give at least one method")
        if not self.seeds:
            raise ValueError("give at least one seed")
        self.methods = tuple(self.methods)
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"a method is listed twice in {self.methods}")
        for m in self.methods:
            get_method(m, self._options_for(m))
        preset = PRESETS.get(self.dataset, PRESETS["csv"])
        if self.train is None:
            self.train = preset.train
        if self.table_metrics is None:
            self.table_metrics = preset.metrics
        unknown = set(self.table_metrics) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown metric(s) {sorted(unknown)}; known: {METRICS}")

    def _options_for(self, method: str) -> dict:
        """The ``method_options`` entries of the components of ``method`` (``a+b``)."""
        parts = {p.strip().lower() for p in method.split("+")}
        return {k: v for k, v in self.method_options.items() if k in parts}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BenchConfig:
        """The configuration :meth:`to_dict` wrote (e.g. read back from ``config.json``)."""
        return _dataclass_from(cls, d)


def _dataclass_from(cls, d: dict):
    """``cls(**d)`` with nested dataclass fields rebuilt and JSON lists turned back into the
    tuples of tuple-valued fields."""
    if not isinstance(d, dict):
        raise ValueError(f"expected a mapping for {cls.__name__}, got {type(d).__name__}")
    unknown = set(d) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {sorted(unknown)}")
    kw = {}
    for f in fields(cls):
        if f.name not in d:
            continue
        v = d[f.name]
        nested = _NESTED.get(f.name)
        if nested is not None and isinstance(v, dict):
            v = _dataclass_from(nested, v)
        elif isinstance(v, list) and f.name in _TUPLE_FIELDS:
            v = tuple(v)
        kw[f.name] = v
    return cls(**kw)


#: the dataclass fields of BenchConfig, TrainConfig and HeadConfig that hold dataclasses / tuples
_NESTED = {"train": TrainConfig, "head": HeadConfig}
_TUPLE_FIELDS = {"methods", "seeds", "table_metrics", "lr_milestones"}


def _comparable(config: dict) -> dict:
    """A configuration without what does not change results (progress bars), as JSON reads it."""
    c = json.loads(json.dumps(config, default=str))
    c.pop("progress", None)
    if isinstance(c.get("sampler"), dict):
        c["sampler"].pop("progress", None)
    return c


def _records(dataset: str, method: str, seed: int, metrics: dict) -> list[dict]:
    return [
        {"dataset": dataset, "method": method, "seed": seed, "region": r, "metric": k, "value": v}
        for r in REGION_COLUMNS
        for k, v in metrics[r].items()
    ]


def run_bench(
    config: BenchConfig,
    out: str | Path,
    dataset: DIRDataset | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> list[dict]:
    """Run every method for every seed, write the output directory, return the records.

    A directory that already holds a run is refused unless ``resume`` (continue it: same
    configuration and data, checked) or ``overwrite`` (discard it and start again).
    """
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
        for name in ("config.json", "results.json", "runs.json", "results.md"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    if dataset is None:
        dataset = load_dataset(
            config.dataset,
            config.data,
            config.target,
            regions=config.regions,
            image_root=config.image_root,
            **config.dataset_kwargs,
        )
    encoder_name = config.encoder or DEFAULT_ENCODER[dataset.modality]
    data_key = dataset.fingerprint()
    records: list[dict] = []
    runs: list[dict] = []  # one per (method, seed); a failed one holds "error" instead
    if resume:
        records, runs = _resumed_results(out, saved, config, data_key)
    else:
        write_json(
            out / "config.json",
            {
                "bench": config.to_dict(),
                "encoder_name": encoder_name,
                "encoder": make_encoder(encoder_name, **config.encoder_kwargs).config(),
                "dataset_summary": dataset.summary(),
                "data_fingerprint": data_key,
            },
        )
    done = {(r["method"], r["seed"]) for r in runs}
    y_test = dataset.test.y
    regions_test = dataset.regions.of(y_test)
    regions_val = dataset.regions.of(dataset.val.y)
    for seed in tqdm(config.seeds, desc="seeds", disable=not config.progress):
        ctx = RunContext(
            dataset,
            lambda: make_encoder(encoder_name, **config.encoder_kwargs),
            config.train,
            int(seed),
            sampler=config.sampler,
            head=config.head,
            progress=config.progress,
            checkpoints=out / "checkpoints" / f"seed-{int(seed)}",
        )
        for name in config.methods:
            if (name, int(seed)) in done:
                continue
            ctx.fresh_seconds = 0.0
            t0 = time.perf_counter()
            try:
                output = get_method(name, config._options_for(name)).run(ctx)
                for split, pred in output.predictions.items():
                    if not np.all(np.isfinite(pred)):
                        raise ValueError(
                            f"{int((~np.isfinite(pred)).sum())} {split} prediction(s) are NaN or "
                            f"inf: training diverged (try a smaller learning rate)"
                        )
            except ValueError as e:  # a method that cannot run here: record it, go on
                runs.append({"method": name, "seed": int(seed), "error": str(e)})
                write_json(out / "runs.json", runs)
                shutil.rmtree(ctx.generator_dir(), ignore_errors=True)
                print(f"latentdiff: {name} (seed {seed}) failed: {e}", file=sys.stderr)
                continue
            seconds = time.perf_counter() - t0
            # a shared network's training is counted once, under the method that is that network
            # (vanilla, lds, ...), whatever the order; head methods report their own time only
            if output.network_seconds is not None:
                seconds = output.network_seconds
            else:
                seconds -= ctx.fresh_seconds
            test = shot_metrics(y_test, output.predictions["test"], regions_test)
            val = shot_metrics(dataset.val.y, output.predictions["val"], regions_val)
            records += _records(dataset.name, name, int(seed), test)
            runs.append(
                {"method": name, "seed": int(seed), "seconds": seconds, "val": val, **output.info}
            )
            write_json(out / "results.json", records)  # after every run: nothing is lost
            write_json(out / "runs.json", runs)  # last: a pair counts as done once it is here
            # the generator's training state is needed only until the results are recorded
            shutil.rmtree(ctx.generator_dir(), ignore_errors=True)
    atomic_write_text(out / "results.md", results_table(records, runs, dataset, config))
    return records


def _read_json(path: Path, default):
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON ({e})") from None


def read_run_config(out: str | Path) -> dict:
    """The ``config.json`` of a run directory (its ``bench`` entry is a :class:`BenchConfig`
    dict), or an error naming why there is no run to resume there."""
    path = Path(out) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"no run to resume in {out} (it has no config.json)")
    saved = _read_json(path, None)
    if not isinstance(saved, dict) or not isinstance(saved.get("bench"), dict):
        raise ValueError(f"{path} is not a latentdiff run configuration")
    return saved


def _resumed_results(
    out: Path, saved: dict, config: BenchConfig, data_key: str
) -> tuple[list, list]:
    """The records and runs of a run directory to continue, after checking that it was made
    (``saved``: its :func:`read_run_config`) with this configuration and this data. Records of a
    pair that never reached ``runs.json`` (killed between the two writes) are dropped; that pair
    runs again."""
    if _comparable(saved["bench"]) != _comparable(config.to_dict()):
        raise ValueError(
            f"the configuration differs from the one {out} was started with; resume with the "
            f"saved configuration (latentdiff run --resume {out}) or start a new run"
        )
    if "data_fingerprint" not in saved:
        raise ValueError(f"{out} was started by a latentdiff that did not record its data: "
                         f"it cannot be resumed safely; start a new run")  # fmt: skip
    if saved["data_fingerprint"] != data_key:
        raise ValueError(
            f"the data differ from the data {out} was started on (its fingerprint changed): "
            f"start a new run to use the new data"
        )
    runs = _read_json(out / "runs.json", [])
    done = {(r["method"], r["seed"]) for r in runs}
    records = [r for r in _read_json(out / "results.json", []) if (r["method"], r["seed"]) in done]
    return records, runs


def _num(x: float) -> str:
    """Four decimals for errors and correlations of order one; thousands for large errors."""
    return f"{x:,.0f}" if abs(x) >= 10_000 else f"{x:.4g}" if abs(x) >= 10 else f"{x:.4f}"


def format_mean_std(vals) -> str:
    """``mean ± std`` (sample std) over seeds; the bare value for one seed; n/a for none."""
    vals = [v for v in vals or [] if v is not None]
    if not vals:
        return "n/a"
    a = np.asarray(vals, dtype=np.float64)
    return _num(a.mean()) if a.size == 1 else f"{_num(a.mean())} ± {_num(a.std(ddof=1))}"


def summarise(records: list[dict]) -> dict:
    """{(method, metric, region): [values over seeds]} (None values dropped)."""
    out: dict = {}
    for r in records:
        if r["value"] is not None:
            out.setdefault((r["method"], r["metric"], r["region"]), []).append(r["value"])
    return out


def metric_table(s: dict, methods: list[str], metric: str, level: str = "##", suffix: str = ""):
    """Heading and mean ± std rows of one metric per region (``s`` from :func:`summarise`)."""
    arrow = "lower is better" if LOWER_IS_BETTER[metric] else "higher is better"
    lines = [
        f"{level} {metric.upper()} ({arrow})",
        "",
        "| method | " + " | ".join(REGION_COLUMNS) + " |",
    ]
    lines.append("|---" * (len(REGION_COLUMNS) + 1) + "|")
    for m in methods:
        cells = [format_mean_std(s.get((m, metric, r))) for r in REGION_COLUMNS]
        lines.append(f"| {m}{suffix} | " + " | ".join(cells) + " |")
    return lines


def results_table(
    records: list[dict], runs: list[dict], dataset: DIRDataset, config: BenchConfig
) -> str:
    """The markdown table of mean ± std per region, with the change against vanilla."""
    s = summarise(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    counts = region_counts(dataset.regions.of(dataset.test.y))
    lines = [
        f"# {dataset.name}: test split, mean ± std over seeds {seeds}",
        "",
        f"Shot regions: {dataset.regions.description}. Test samples: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + ".",
        "",
    ]
    for metric in config.table_metrics:
        lines += metric_table(s, methods, metric)
        if "vanilla" in methods:
            for m in methods:
                if m == "vanilla":
                    continue
                cells = []
                for r in REGION_COLUMNS:
                    a, b = s.get(("vanilla", metric, r)), s.get((m, metric, r))
                    if not a or not b or np.mean(a) == 0:
                        cells.append("n/a")
                        continue
                    if LOWER_IS_BETTER[metric]:  # errors: relative change
                        rel = (np.mean(b) - np.mean(a)) / abs(np.mean(a)) * 100
                        cells.append(f"{rel:+.1f} %")
                    else:  # correlations and R^2 can sit near 0: absolute change
                        cells.append(f"{np.mean(b) - np.mean(a):+.4f}")
                lines.append(f"| {m} vs vanilla | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## Runtime and generation",
        "",
        "Wall seconds per seed; the vanilla network's training is counted once, under vanilla,",
        "and not again under the methods that build on it.",
        "",
        "| method | seconds per seed | synthetic accepted / requested |",
        "|---|---|---|",
    ]
    failed = [r for r in runs if "error" in r]
    for m in methods:
        rs = [r for r in runs if r["method"] == m and "error" not in r]
        sec = format_mean_std([r["seconds"] for r in rs])
        if "acceptance_rate" in (rs[0] if rs else {}):
            got = np.mean([r["n_synthetic_accepted"] for r in rs])
            asked = np.mean([r["n_synthetic_requested"] for r in rs])
            acc = f"{got:.0f} / {asked:.0f}"
        else:
            acc = "-"
        lines.append(f"| {m} | {sec} | {acc} |")
    if failed:
        lines += ["", "## Failed runs", ""]
        lines += [f"* {r['method']}, seed {r['seed']}: {r['error']}" for r in failed]
    return "\n".join(lines) + "\n"
