"""Variants of a LatentDiff-family method by name: ``latentdiff[ratio=0.4]``,
``latentdiff[schedule=linear,use_ema=false]``. The settings in brackets replace, for that method
alone, the run's sampler (stages 4-6), generator and head (stage 7) settings, so that one
benchmark holds seed 000's Table 2 ablations side by side on one stage-1 network per seed
(``latentdiff bench --grid table2``, :data:`TABLE2`).

A key names a setting as ``PART.FIELD`` (``sampler``, ``head`` or a generator's part:
``diffusion``, ``gan``, ``gaussian``, ``interp``, ``pogdiff``) or by its field alone when
exactly one of the sampler, the method's generator and the head has it (``ratio``,
``schedule``, ``sample_weighting``). A value is read as JSON when it parses (numbers,
true/false), else as text. Every setting is checked when the method is made.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields

from ..params import SettingError
from ..settings import GENERATOR_NAMES, HeadConfig, SamplerConfig

#: ``base[settings]``
_VARIANT = re.compile(r"^\s*([^\[\]]+?)\s*\[(.*)\]\s*$", re.S)
#: the sampler's fields that are settings parts, not settings (the generators, which one)
_NOT_SETTINGS = {*GENERATOR_NAMES, "generator"}


def split_variant(part: str) -> tuple[str, str | None]:
    """``("latentdiff", "ratio=0.4")`` for ``latentdiff[ratio=0.4]``; ``(part, None)`` for a
    plain name."""
    if "[" not in part and "]" not in part:
        return part, None
    m = _VARIANT.match(part)
    if m is None or "[" in m.group(2) or "]" in m.group(2):
        raise ValueError(f"{part!r} is not a method variant: write NAME[KEY=VALUE,...]")
    return m.group(1), m.group(2)


def parse_settings(text: str, where: str) -> dict:
    """``{"ratio": 0.4, "gate": False}`` for ``ratio=0.4,gate=false``."""
    out: dict = {}
    for item in text.split(","):
        if not item.strip():
            raise ValueError(f"{where}: an empty setting in [{text}]")
        if "=" not in item:
            raise ValueError(f"{where}: expected KEY=VALUE in [{text}], got {item.strip()!r}")
        key, value = (s.strip() for s in item.split("=", 1))
        if key in out:
            raise ValueError(f"{where}: {key} is set twice")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _fields(cls) -> set[str]:
    return {f.name for f in fields(cls)}


def _GENERATOR_CLASSES() -> dict:  # noqa: N802 - a table, built on first use
    from ..settings import DiffusionConfig, GANConfig, GaussianConfig, InterpConfig, PoGDiffConfig

    return {"diffusion": DiffusionConfig, "gan": GANConfig, "gaussian": GaussianConfig,
            "interp": InterpConfig, "pogdiff": PoGDiffConfig}  # fmt: skip


def resolve_key(key: str, generator: str, where: str) -> tuple[str, str]:
    """``(part, field)`` of a key: ``part`` is ``sampler``, ``head`` or a generator's name."""
    classes = _GENERATOR_CLASSES()
    part, dot, name = key.rpartition(".")
    if dot:
        if part == "sampler.diffusion" or part.startswith("sampler."):
            part = part.split(".", 1)[1]
        known = {"sampler": SamplerConfig, "head": HeadConfig, **classes}
        if part not in known:
            raise ValueError(f"{where}: unknown settings part {part!r} in {key!r}; parts: "
                             f"{', '.join(known)}")  # fmt: skip
        if name not in _fields(known[part]) or (part == "sampler" and name in _NOT_SETTINGS):
            raise ValueError(f"{where}: {part} has no setting {name!r}")
        if part in classes and part != generator:
            raise ValueError(f"{where}: {key} is a setting of the {part} generator, and this "
                             f"method generates with {generator}")  # fmt: skip
        return part, name
    parts = (("sampler", SamplerConfig), (generator, classes[generator]), ("head", HeadConfig))
    owners = [p for p, cls in parts if name in _fields(cls)
              and not (p == "sampler" and name in _NOT_SETTINGS)]  # fmt: skip
    if not owners:
        raise ValueError(f"{where}: no setting {name!r} in the sampler, the {generator} "
                         f"generator or the head")  # fmt: skip
    if len(owners) > 1:
        raise ValueError(f"{where}: {name!r} is a setting of {' and '.join(owners)}: write "
                         f"{' or '.join(f'{o}.{name}' for o in owners)}")  # fmt: skip
    return owners[0], name


class Overrides:
    """A variant's settings, resolved to ``(part, field)`` and checked on the defaults."""

    def __init__(self, settings: dict, generator: str, where: str):
        self.where, self.generator = where, generator
        self.items = {resolve_key(k, generator, where): v for k, v in settings.items()}
        try:  # every value checked now, on the defaults, not when the method runs
            self.apply(SamplerConfig(), HeadConfig())
        except SettingError as e:
            raise ValueError(f"{where}: {e}") from None

    def paths(self) -> dict:
        """``{"sampler.diffusion.schedule": "linear", "head.sample_weighting": ...}``: what
        config.json records of the variant."""

        def path(part):
            return part if part in ("sampler", "head") else f"sampler.{part}"

        return {f"{path(p)}.{f}": v for (p, f), v in self.items.items()}

    def apply(self, sampler: SamplerConfig, head: HeadConfig):
        """``(sampler, head)`` with the variant's settings in place of the run's."""
        by_part: dict[str, dict] = {}
        for (p, f), v in self.items.items():
            by_part.setdefault(p, {})[f] = v
        if "head" in by_part:
            head = HeadConfig.from_dict({**head.to_dict(), **by_part["head"]}, "head.")
        changes = dict(by_part.get("sampler", {}))
        for gen, cls in _GENERATOR_CLASSES().items():
            if gen in by_part:
                base = getattr(sampler, gen) or cls()
                changes[gen] = cls.from_dict({**base.to_dict(), **by_part[gen]}, f"sampler.{gen}.")
        if changes:
            d = sampler.to_dict()
            for k, v in changes.items():
                d[k] = v.to_dict() if hasattr(v, "to_dict") else v
            sampler = SamplerConfig.from_dict(d, "sampler.")
        return sampler, head


def method_settings(methods) -> dict:
    """For config.json: each variant among ``methods`` (``a+b`` names too) with the settings
    it replaces, by their full paths."""
    from . import get_method

    out = {}
    for name in methods:
        if "[" not in name:  # options of a plain method are in the run's method_options
            continue
        method = get_method(name, {})
        head = getattr(method, "head_method", method)
        overrides = getattr(head, "overrides", None)
        if overrides is not None and overrides.items:
            out[name] = overrides.paths()
    return out


#: seed 000's Table 2 (and sec. 6) on one data set, with the baselines the variants are paired
#: with: the full model (``latentdiff``, Table 6 defaults) and vanilla; the generators of
#: issue 11; then one row of Table 2 each. Our ``latentdiff`` has no sample weighting (the
#: paper names but does not define it): its row is the variant that adds our reading of it.
TABLE2: tuple[str, ...] = (
    "vanilla",
    "latentdiff",
    "latentgan",
    "latentdiff-gaussian",
    "latentdiff-interp",
    "latentdiff[schedule=linear]",
    "latentdiff[use_ema=false]",
    "latentdiff[prediction=epsilon]",
    "latentdiff[sample_weighting=priority]",
    "latentdiff[allocation=uniform]",
    "latentdiff[ratio=0.4]",
    "latentdiff[ratio=0.6]",
    "latentdiff[ratio=0.8]",
    "latentdiff[ratio=0.9]",
    "latentdiff[priority_weight=0.3]",
    "latentdiff[priority_weight=0.5]",
    "latentdiff[priority_weight=0.9]",
    "latentdiff[gate=false]",
    "latentdiff[quantile=0.9]",
    "latentdiff[quantile=0.99]",
)
