"""What the summary scripts read from a run directory: its configuration, the table's headline
metric, the finished (method, seed) entries of runs.json, and the headline metric's value per
(method, seed, region) from results.json."""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def load(run: Path) -> tuple[dict, str, list[dict], dict, list[dict]]:
    """(config, metric, runs without errors, {(method, seed, region): value}, records)."""
    config = json.loads((run / "config.json").read_text())
    metric = config["bench"]["table_metrics"][0]
    records = json.loads((run / "results.json").read_text())
    runs = [e for e in json.loads((run / "runs.json").read_text()) if "error" not in e]
    value = {(r["method"], r["seed"], r["region"]): r["value"] for r in records
             if r["metric"] == metric and r["value"] is not None}  # fmt: skip
    return config, metric, runs, value, records


def mean_sd(values: list[float], fmt: str) -> str:
    """'mean ± sample std' with the format spec ``fmt`` ('-' for none, no ± for one)."""
    if not values:
        return "-"
    sd = f" ± {statistics.stdev(values):{fmt}}" if len(values) > 1 else ""
    return f"{statistics.fmean(values):{fmt}}{sd}"
