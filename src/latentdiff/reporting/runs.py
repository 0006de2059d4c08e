"""Reading a run directory and the statistics every report shares: mean ± std over seeds and
paired per-seed differences between methods. Nothing here measures; it reads what a benchmark
wrote (``results.json``, ``runs.json``, ``config.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..metrics import LOWER_IS_BETTER

#: the config.json formats a report reads (latentdiff.settings.BenchConfig.FORMAT): 3 added
#: settings to the configuration only, so issue 10's format-2 run directories still report
CONFIG_FORMATS = (2, 3)


@dataclass
class Run:
    """A benchmark's output directory, read."""

    path: Path
    records: list[dict]
    runs: list[dict]
    config: dict

    @property
    def bench(self) -> dict:
        return self.config["bench"]

    @property
    def dataset(self) -> str:
        """The data set's name as its loader gives it (``stsb-dir``, a CSV file's stem)."""
        return self.config["dataset_summary"]["name"]

    @property
    def task(self) -> str:
        """``regression`` or ``classification`` (a run written before tasks: regression)."""
        return self.bench.get("task", "regression")

    @property
    def baseline(self) -> str:
        """The method every other is compared with: vanilla, or ce in a classification run."""
        return "ce" if self.task == "classification" else "vanilla"

    @property
    def methods(self) -> list[str]:
        return list(dict.fromkeys(r["method"] for r in self.records))

    @property
    def seeds(self) -> list[int]:
        return sorted({r["seed"] for r in self.records})


def load_run(path: str | Path) -> Run:
    """The files of a run directory, or an error naming the one that is missing or unreadable."""
    path = Path(path)
    parts = []
    for name in ("results.json", "runs.json", "config.json"):
        f = path / name
        if not f.is_file():
            raise FileNotFoundError(f"{path} is not a finished run: it has no {name}")
        try:
            parts.append(json.loads(f.read_text()))
        except json.JSONDecodeError as e:
            raise ValueError(f"{f} is not valid JSON ({e})") from None
    fmt = parts[2].get("format", 1) if isinstance(parts[2], dict) else None
    if fmt not in CONFIG_FORMATS:
        raise ValueError(
            f"{path} was written in config format {fmt}; this latentdiff reads formats "
            f"{', '.join(map(str, CONFIG_FORMATS))}: run the benchmark again"
        )
    return Run(path, *parts)


def heading(run: Run, what: str) -> list[str]:
    """A section's title and its line on the data: sizes, shot regions, test counts, seeds."""
    summ = run.config["dataset_summary"]
    counts = ", ".join(f"{k} {v}" for k, v in summ["test_region_counts"].items())
    regions = f"shot regions: {summ['regions']}"
    if run.task == "classification":
        regions = (f"{summ['n_classes']} classes, training counts {summ['train_counts']}, "
                   f"classes per region {summ['regions']}")  # fmt: skip
    return [
        f"## {run.dataset}, encoder `{run.config['encoder_name']}` (`{run.path.name}`)",
        "",
        f"{summ['n_train']} train / {summ['n_val']} val / {summ['n_test']} test; {regions}; "
        f"test samples per region: {counts}. Seeds {run.seeds}; {what}",
        "",
    ]


def summarise(records: list[dict]) -> dict:
    """{(method, metric, region): [values over seeds]} (None values dropped)."""
    out: dict = {}
    for r in records:
        if r["value"] is not None:
            out.setdefault((r["method"], r["metric"], r["region"]), []).append(r["value"])
    return out


def number(x: float) -> str:
    """Four decimals for errors and correlations of order one; thousands for large errors."""
    return f"{x:,.0f}" if abs(x) >= 10_000 else f"{x:.4g}" if abs(x) >= 10 else f"{x:.4f}"


def format_mean_std(vals) -> str:
    """``mean ± std`` (sample std) over seeds; the bare value for one seed; n/a for none."""
    vals = [v for v in vals or [] if v is not None]
    if not vals:
        return "n/a"
    a = np.asarray(vals, dtype=np.float64)
    return number(a.mean()) if a.size == 1 else f"{number(a.mean())} ± {number(a.std(ddof=1))}"


def ranking(s: dict, methods: list[str], metric: str, region: str) -> list[tuple[str, float]]:
    """Methods by mean over seeds (``s`` from :func:`summarise`), best first."""
    vals = [(m, float(np.mean(s[(m, metric, region)]))) for m in methods
            if s.get((m, metric, region))]  # fmt: skip
    return sorted(vals, key=lambda t: t[1], reverse=not LOWER_IS_BETTER[metric])


def paired_differences(records, metric: str, region: str, a: str, b: str):
    """Per-seed ``a - b`` on the seeds where both have a value, and how many favour ``a``."""
    by = {(r["method"], r["seed"]): r["value"] for r in records if r["metric"] == metric
          and r["region"] == region and r["value"] is not None}  # fmt: skip
    d = np.array([by[(a, s)] - by[(b, s)] for (m, s) in sorted(by) if m == a and (b, s) in by])
    better = int(np.sum(d < 0) if LOWER_IS_BETTER[metric] else np.sum(d > 0))
    return d, better


def format_paired(d: np.ndarray, better: int, relative_to: float | None = None) -> str:
    """``mean ± std`` of paired differences, optionally relative to a mean, and the seeds in
    favour of the first method."""
    if d.size == 0:
        return "n/a"
    sd = d.std(ddof=1) if d.size > 1 else 0.0
    rel = "" if not relative_to else f", {d.mean() / abs(relative_to) * 100:+.1f} %"
    return f"{d.mean():+.4f} ± {sd:.4f}{rel} ({better}/{d.size} seeds better)"


def paired(records, metric: str, region: str, a: str, b: str = "vanilla", relative_to=None) -> str:
    """:func:`format_paired` of :func:`paired_differences`."""
    return format_paired(*paired_differences(records, metric, region, a, b), relative_to)
