"""The papers' published figures, as data (``published.json``, the one place they are written):
all / many / medium / few per method, for each data set and metric a paper reports."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_FILE = Path(__file__).with_name("published.json")


@cache
def _load() -> dict:
    return json.loads(_FILE.read_text())


def published(dataset: str, metric: str) -> dict[str, list[float | None]]:
    """{row label: [all, many, medium, few]} the papers report for ``dataset`` and ``metric``
    (empty when none). Labels are our method names; a "(004)" suffix marks seed 004's Table 3."""
    return dict(_load()["figures"].get(dataset, {}).get(metric, {}))


def paper_table(dataset: str) -> str | None:
    """Which table of seed 000 the figures of ``dataset`` come from."""
    return _load()["tables"].get(dataset)


def about() -> str:
    return _load()["_about"]
