"""The registry of methods, by the names the CLI accepts, and their ``+`` combinations."""

from __future__ import annotations

from .auto import Auto
from .balanced_mse import BMC, BNI, GAI
from .base import (
    Combined,
    HeadMethod,
    Method,
    MethodOutput,
    NetworkMethod,
    RunContext,
)
from .conr import ConR
from .fds import FDSMethod
from .focal import FocalR
from .head import (
    RRT,
    LatentDiff,
    LatentDiffFill,
    LatentDiffGaussian,
    LatentDiffInterp,
    LatentGAN,
    PoGDiff,
    RetrainHead,
)
from .input_resampling import SmognMethod, SmoterMethod
from .ranksim import RankSim
from .reweighting import LDS, Inv, Sqinv
from .tuned import LatentDiffTuned
from .vanilla import Vanilla
from .variants import TABLE2, parse_settings, split_variant

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (
        Vanilla,
        Inv,
        Sqinv,
        LDS,
        FDSMethod,
        FocalR,
        BMC,
        BNI,
        GAI,
        RankSim,
        ConR,
        SmoterMethod,
        SmognMethod,
        RRT,
        RetrainHead,
        LatentDiff,
        LatentDiffFill,
        LatentGAN,
        LatentDiffGaussian,
        LatentDiffInterp,
        PoGDiff,
        LatentDiffTuned,
        Auto,
    )
}

#: Table 1 of seed 000 (and the baselines of seed 004) on one data set, in table order
TABLE1: tuple[str, ...] = (
    "vanilla",
    "inv",
    "sqinv",
    "lds",
    "fds",
    "fds+lds",
    "focal-r",
    "rrt",
    "smoter",
    "smogn",
    "bmc",
    "bni",
    "gai",
    "ranksim",
    "conr",
    "retrain-head",
    "latentgan",
    "latentdiff",
    "latentdiff+sqinv",
    "latentdiff+lds",
    "latentdiff+fds",
    "latentdiff+focal-r",
    "latentdiff+fds+lds",
)

GRIDS: dict[str, tuple[str, ...]] = {"table1": TABLE1, "table2": TABLE2}


def get_method(name: str, options: dict[str, dict] | None = None) -> Method:
    """A method by its registry name, or ``a+b+...``: the network methods named train one network
    together and at most one head method (latentdiff, latentdiff-gaussian, latentgan, rrt, ...)
    acts on it.

    ``options`` maps a component name to its keyword options, e.g. ``{"lds": {"kernel":
    "laplace"}}``. A LatentDiff-family component can carry settings of its own in brackets,
    ``latentdiff[ratio=0.4]`` (:mod:`latentdiff.methods.variants`).
    """
    options = options or {}
    parts, variants = [], {}
    for p in str(name).split("+"):
        base, settings = split_variant(p.strip())
        if settings is None:
            parts.append(p.strip().lower())
            continue
        base = base.lower()
        if base not in METHODS or not issubclass(METHODS[base], LatentDiff):
            family = [k for k, c in METHODS.items() if issubclass(c, LatentDiff)]
            raise ValueError(f"{p.strip()!r}: only the LatentDiff-family methods "
                             f"({', '.join(family)}) take settings in brackets")  # fmt: skip
        variant = f"{base}[{settings}]"
        variants[variant] = METHODS[base].variant(variant, parse_settings(settings, variant))
        parts.append(variant)
    if not all(parts):
        raise ValueError(f"empty method name in {name!r}")
    unknown = [p for p in parts if p not in METHODS and p not in variants]
    if unknown:
        raise ValueError(
            f"unknown method {unknown[0]!r} in {name!r}; known methods: {', '.join(METHODS)} "
            "(combine with '+', e.g. latentdiff+lds)"
        )
    if "auto" in parts and len(parts) > 1:
        raise ValueError(f"{name!r}: auto chooses a whole method and combines with none")
    bad = set(options) - set(parts)
    if bad:
        raise ValueError(f"options given for {sorted(bad)}, which {name!r} does not use")
    if "lds" in parts and ("inv" in parts or "sqinv" in parts):
        # LDS smooths the scheme named with it (seed 004's INV + LDS, SQINV + LDS)
        scheme = "inv" if "inv" in parts else "sqinv"
        if "inv" in parts and "sqinv" in parts:
            raise ValueError(f"{name!r}: inv and sqinv both set the weights; use one")
        extra = options.get(scheme, {})
        if extra:
            raise ValueError(f"with lds, give the weighting options as lds.KEY=VALUE, not {scheme}")
        if scheme == "inv":  # sqinv is lds's own default: same network, same key
            options = {**options, "lds": {"scheme": "inv", **options.get("lds", {})}}
        parts = [p for p in parts if p != scheme]
    if any(options.get(v) for v in variants):
        raise ValueError(f"{name!r}: give a variant's settings in its brackets")
    made = [variants[p] if p in variants else METHODS[p](**options.get(p, {})) for p in parts]
    heads = [m for m in made if isinstance(m, HeadMethod)]
    nets = [m for m in made if isinstance(m, NetworkMethod) and m.name != "vanilla"]
    if len(heads) > 1:
        raise ValueError(
            f"{name!r} combines {len(heads)} head methods ({', '.join(h.name for h in heads)}); "
            "use at most one"
        )
    if len(made) == 1:
        return made[0]
    return Combined(nets, heads[0] if heads else None)


__all__ = [
    "GRIDS",
    "METHODS",
    "TABLE1",
    "TABLE2",
    "Combined",
    "HeadMethod",
    "Method",
    "MethodOutput",
    "NetworkMethod",
    "RunContext",
    "get_method",
]
