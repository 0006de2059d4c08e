"""Data sets by name, for the CLI and the benchmarks."""

from __future__ import annotations

from ..binning import THRESHOLDS
from .base import DIRDataset

DATASETS = ("diamonds", "california-housing", "stsb-dir", "agedb-dir", "imdb-wiki-dir", "csv")


def load_dataset(
    name: str,
    data: str | None = None,
    target: str | None = None,
    regions: str = "dir",
    image_root: str | None = None,
    **kwargs,
) -> DIRDataset:
    """Load a data set by name.

    ``diamonds`` is embedded (no path); ``california-housing`` reads ``data`` (a CSV) or uses
    scikit-learn's fetcher when ``data`` is None; ``stsb-dir`` reads the folder ``data``;
    ``agedb-dir`` / ``imdb-wiki-dir`` read the ``age,path,split`` CSV ``data`` with images under
    ``image_root``; ``csv`` reads any CSV / parquet ``data`` with ``target``.
    ``regions`` is ``dir`` (100 / 20), ``latentdiff`` (70 / 30) or, for STS-B-DIR, ``official``.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    if name == "stsb-dir":
        from .stsb import load_stsb_dir

        if data is None:
            raise ValueError(
                "stsb-dir needs --data, the folder with train_new/dev_new/test_new.tsv"
            )
        return load_stsb_dir(data, regions=regions)
    if name in ("agedb-dir", "imdb-wiki-dir"):
        from .images import load_age_csv

        if data is None or image_root is None:
            raise ValueError(f"{name} needs --data (the age,path,split CSV) and --image-root")
        return load_age_csv(data, image_root, name=name, regions=regions, **kwargs)
    if regions not in THRESHOLDS:
        raise ValueError(f"regions must be one of {sorted(THRESHOLDS)} for {name}, got {regions!r}")
    kwargs["thresholds"] = THRESHOLDS[regions]
    from . import tabular

    if name == "diamonds":
        return tabular.load_diamonds(**kwargs)
    if name == "california-housing":
        return tabular.load_california_housing(data, **kwargs)
    if data is None or target is None:
        raise ValueError("a CSV / parquet data set needs both --data FILE and --target COLUMN")
    return tabular.load_table(data, target, **kwargs)
