"""Face-age benchmarks from a label file: AgeDB-DIR and IMDB-WIKI-DIR (seed 004, B.1-B.2).

DIR ships each benchmark as a CSV with columns ``age, path, split`` (split in train / val / test),
paths relative to the folder of images. The images themselves are not redistributable; loading
the labels never opens them (``ResNetEncoder.prepare`` checks that they exist), so the label
statistics and shot regions can be inspected without the images.

Evaluation bins are 1 year wide with one bin per integer age, as DIR's bins are the ages
themselves: edges at ``min_age, min_age + 1, ..., max_age + 1``. With the DIR thresholds the
AgeDB-DIR test set then has 1,530 many-, 448 medium- and 162 few-shot samples.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..binning import THRESHOLDS
from .base import DIRDataset, Split, make_regions
from .tabular import SPLIT_NAMES, read_table, target_values

__all__ = ["AGE_COLUMNS", "load_age_csv", "load_agedb_dir", "load_imdb_wiki_dir"]

AGE_COLUMNS: tuple[str, ...] = ("age", "path", "split")


def _check_columns(df: pd.DataFrame, source: str) -> None:
    missing = [c for c in AGE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source} lacks column(s) {missing}; an age label file needs columns "
            f"{list(AGE_COLUMNS)}, found {list(df.columns)}"
        )


def _split_names(df: pd.DataFrame, source: str) -> np.ndarray:
    col = df["split"]
    if col.isna().any():
        raise ValueError(f"{source}: {int(col.isna().sum())} row(s) have no split name")
    s = col.astype(str).str.strip().str.lower().to_numpy()
    unknown = sorted(set(s) - set(SPLIT_NAMES))
    if unknown:
        raise ValueError(f"{source}: unknown split name(s) {unknown}; expected {list(SPLIT_NAMES)}")
    return s


def _image_paths(df: pd.DataFrame, root: Path, source: str) -> np.ndarray:
    col = df["path"]
    empty = col.isna() | (col.astype(str).str.strip() == "")
    if empty.any():
        first = int(np.flatnonzero(empty.to_numpy())[0])
        raise ValueError(
            f"{source}: {int(empty.sum())} row(s) have an empty image path (first at row {first})"
        )
    # os.path is used instead of Path.resolve: no file-system call per row (200k rows for IMDB)
    root_s = os.path.abspath(root)
    paths = [os.path.normpath(os.path.join(root_s, p.strip())) for p in col.astype(str)]
    return np.asarray(paths, dtype=object)


def load_age_csv(
    csv_path: str | os.PathLike,
    image_root: str | os.PathLike | None = None,
    name: str = "agedb-dir",
    regions: Literal["dir", "latentdiff"] = "dir",
    eval_bin_width: float = 1.0,
    label_range: tuple[float, float] | None = None,
    check_images: bool = True,
) -> DIRDataset:
    """An age-regression DIR data set from an ``age, path, split`` label file.

    Parameters
    ----------
    csv_path : str or PathLike
        The label file (CSV, or parquet by suffix).
    image_root : str or PathLike, optional
        Folder the ``path`` column is relative to; ``None`` uses the folder of ``csv_path``
        (DIR's layout: ``data/agedb.csv`` beside ``data/AgeDB/``). Absolute paths are kept.
    name : str
        Data set name used in reports (``"imdb-wiki-dir"`` for IMDB-WIKI-DIR).
    regions : {"dir", "latentdiff"}
        Shot thresholds: DIR's many > 100 / few < 20, or LatentDiff's 70 / 30 (seed 000, app. B).
    eval_bin_width : float
        Width of the evaluation bins in years; bins are half-open ``[e_k, e_k + width)`` from the
        lowest age, so with width 1 every integer age is its own bin.
    label_range : (float, float), optional
        Lowest and highest age the bins cover (inclusive), e.g. ``(0, 101)`` as DIR states for
        AgeDB; default the training range. Test ages outside it count in the nearest end bin.
    check_images : bool
        Check that every image file exists (one ``os.path.isfile`` per row) and refuse the data
        set, naming how many are missing and the first, if not. ``False`` loads the labels alone
        (e.g. to count shot regions without the images).

    Returns
    -------
    DIRDataset
        Modality ``"image"``; ``Split.X`` is an object array of absolute image paths.

    Raises
    ------
    FileNotFoundError
        If the label file is missing.
    ValueError
        For missing columns, non-numeric or missing ages, empty paths, unknown split names or
        an empty split.
    """
    csv_path = Path(csv_path)
    source = str(csv_path)
    df = read_table(csv_path)
    df.columns = [str(c).strip() for c in df.columns]
    _check_columns(df, source)
    y = target_values(df, "age", source=source)  # errors name non-numeric or NaN ages
    split = _split_names(df, source)
    root = csv_path.parent if image_root is None else Path(image_root)
    paths = _image_paths(df, root, source)

    parts = []
    for p in SPLIT_NAMES:
        idx = np.flatnonzero(split == p)
        if idx.size == 0:
            raise ValueError(f"{source}: the {p} split is empty ({len(df)} rows in all)")
        parts.append(Split(paths[idx], y[idx]))

    if regions not in THRESHOLDS:
        raise ValueError(f"regions must be one of {sorted(THRESHOLDS)}, got {regions!r}")
    if not (eval_bin_width > 0 and np.isfinite(eval_bin_width)):
        raise ValueError(f"eval_bin_width must be a positive number, got {eval_bin_width!r}")
    if label_range is None:
        label_range = (float(parts[0].y.min()), float(parts[0].y.max()))
    low, high = float(label_range[0]), float(label_range[1])
    if high < low:
        raise ValueError(f"label_range must be (low, high) with low <= high, got {label_range}")
    # the top edge is one bin above the oldest age so that it gets a bin of its own, as every
    # other age does (bins are half-open; Bins would otherwise fold it into the bin below)
    shot_regions = make_regions(
        parts[0].y,
        eval_bin_width=eval_bin_width,
        thresholds=THRESHOLDS[regions],
        label_range=(low, high + eval_bin_width),
    )
    info = {
        "source": source,
        "image_root": os.path.abspath(root),
        "split_rule": "the label file's split column",
        "bin_rule": f"width {eval_bin_width:g} over ages [{low:g}, {high:g}]",
    }
    if check_images:
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            hint = " (is --image-root right?)" if len(missing) == len(paths) else ""
            raise FileNotFoundError(
                f"{source}: {len(missing)} of {len(paths)} image file(s) not found{hint}; "
                f"first: {missing[0]}"
            )
    return DIRDataset(name, "image", *parts, regions=shot_regions, info=info)


def load_agedb_dir(root: str | os.PathLike, **kwargs) -> DIRDataset:
    """AgeDB-DIR from DIR's data folder: ``root/agedb.csv`` with images under ``root``."""
    kwargs.setdefault("name", "agedb-dir")
    return load_age_csv(Path(root) / "agedb.csv", image_root=root, **kwargs)


def load_imdb_wiki_dir(root: str | os.PathLike, **kwargs) -> DIRDataset:
    """IMDB-WIKI-DIR from DIR's data folder: ``root/imdb_wiki.csv`` with images under ``root``."""
    kwargs.setdefault("name", "imdb-wiki-dir")
    return load_age_csv(Path(root) / "imdb_wiki.csv", image_root=root, **kwargs)
