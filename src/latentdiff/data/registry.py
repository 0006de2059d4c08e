"""Data sets by name, for the command line and the benchmarks, each with the loader parameters
that apply to it. A parameter that does not apply to a data set is refused, never ignored."""

from __future__ import annotations

from dataclasses import dataclass

from .base import DIRDataset

PARAMETERS = (
    "data", "target", "image_root", "regions", "max_train", "eval_bins", "missing", "zero_shot",
)  # fmt: skip


@dataclass(frozen=True)
class Loader:
    """What a named data set needs and accepts."""

    modality: str
    required: tuple[str, ...]
    accepted: tuple[str, ...]
    regions: tuple[str, ...] = ("dir", "latentdiff")
    #: shot-region rule when none is given
    default_regions: str = "dir"
    #: why a parameter does not apply, when it is not obvious
    why_not: str = ""


LOADERS: dict[str, Loader] = {
    "diamonds": Loader(
        "tabular", (), ("regions", "max_train", "eval_bins", "missing", "zero_shot"),
        why_not="diamonds is embedded: ggplot2's table, target price",
    ),
    "california-housing": Loader(
        "tabular", ("data",), ("data", "regions", "max_train", "eval_bins", "missing", "zero_shot"),
        why_not="its target is MedHouseVal",
    ),
    "csv": Loader(
        "tabular", ("data", "target"),
        ("data", "target", "regions", "max_train", "eval_bins", "missing", "zero_shot"),
    ),
    "stsb-dir": Loader(
        "text", ("data",), ("data", "regions"), ("official", "dir", "latentdiff"), "official",
        why_not="STS-B-DIR has the reference's splits and its 50 evaluation bins of width 0.1",
    ),
    "agedb-dir": Loader(
        "image", ("data", "image_root"), ("data", "image_root", "regions"),
        why_not="the age benchmarks have their label file's splits and one bin per year",
    ),
    "imdb-wiki-dir": Loader(
        "image", ("data", "image_root"), ("data", "image_root", "regions"),
        why_not="the age benchmarks have their label file's splits and one bin per year",
    ),
}  # fmt: skip

DATASETS = tuple(LOADERS)

_FLAGS = {
    "data": "--data",
    "target": "--target",
    "image_root": "--image-root",
    "regions": "--regions",
    "max_train": "--max-train",
    "eval_bins": "--eval-bins",
    "missing": "--missing",
    "zero_shot": "--zero-shot",
}


def check_loader_parameters(name: str, given: dict) -> None:
    """Refuse an unknown data set, a missing required parameter, one that does not apply, or a
    shot-region rule the data set does not have (ValueError naming it)."""
    if name not in LOADERS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    loader = LOADERS[name]
    unknown = set(given) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"unknown loader parameter(s) {sorted(unknown)}; known: {PARAMETERS}")
    for p in loader.required:
        if given.get(p) is None:
            raise ValueError(f"{name} needs {_FLAGS[p]} ({p})")
    for p, v in given.items():
        if v is not None and p not in loader.accepted:
            why = f" ({loader.why_not})" if loader.why_not else ""
            raise ValueError(f"{_FLAGS[p]} ({p} = {v!r}) does not apply to {name}{why}")
    regions = given.get("regions")
    if regions is not None and regions not in loader.regions:
        raise ValueError(
            f"regions = {regions!r} does not apply to {name}; choose one of {loader.regions}"
        )


def load_dataset(
    name: str,
    data: str | None = None,
    *,
    target: str | None = None,
    image_root: str | None = None,
    regions: str | None = None,
    max_train: int | None = None,
    eval_bins: int | None = None,
    missing: str | None = None,
    zero_shot: str | None = None,
) -> DIRDataset:
    """Load a data set by name (:data:`LOADERS` lists what each needs and accepts).

    * ``diamonds``: embedded, no path; ``max_train`` (default 8,000) and ``eval_bins`` (50);
    * ``california-housing``: the CSV ``data`` (scikit-learn's columns); ``eval_bins`` (100);
    * ``csv``: any CSV / parquet ``data`` with a numeric ``target`` column; ``eval_bins`` (20);
    * ``stsb-dir``: the folder ``data`` with DIR's ``train_new/dev_new/test_new.tsv``;
    * ``agedb-dir`` / ``imdb-wiki-dir``: the ``age,path,split`` label file ``data`` with the
      images under ``image_root``.

    ``regions``: ``dir`` (many > 100, few < 20), ``latentdiff`` (70 / 30) or, for STS-B-DIR,
    ``official`` (the reference's lists, its default); None takes the data set's default.
    ``missing`` (tables): ``impute`` missing feature values from the training rows (None: the
    default) or ``refuse`` them (:class:`latentdiff.data.tabular.TableEncoding`).
    ``zero_shot`` (tables): curated label ranges with no training or validation rows, their test
    rows scored as zero-shot regions (:mod:`latentdiff.zeroshot`, seed 004's Table 6).
    """
    given = {
        "data": data,
        "target": target,
        "image_root": image_root,
        "regions": regions,
        "max_train": max_train,
        "eval_bins": eval_bins,
        "missing": missing,
        "zero_shot": zero_shot,
    }
    given = {k: v for k, v in given.items() if v is not None}
    check_loader_parameters(name, given)
    regions = regions or LOADERS[name].default_regions
    if name == "stsb-dir":
        from .stsb import load_stsb_dir

        return load_stsb_dir(data, regions=regions)
    if name in ("agedb-dir", "imdb-wiki-dir"):
        from .images import load_age_csv

        return load_age_csv(data, image_root, name=name, regions=regions)
    from ..binning import THRESHOLDS
    from . import tabular

    kw = {"thresholds": THRESHOLDS[regions], "eval_n_bins": eval_bins}
    if max_train is not None:
        kw["max_train"] = max_train
    if missing is not None:
        kw["missing"] = missing
    if zero_shot is not None:
        from ..zeroshot import parse_spec

        parse_spec(zero_shot)  # a malformed specification before the table is read
        kw["zero_shot"] = zero_shot
    if name == "diamonds":
        return tabular.load_diamonds(**kw)
    if name == "california-housing":
        return tabular.load_california_housing(data, **kw)
    return tabular.load_table(data, target, **kw)
