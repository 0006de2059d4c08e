"""Typed settings, checked where they enter: the vocabulary every configuration of the project
is declared with (:mod:`latentdiff.settings`), in the spirit of scikit-learn's
``_parameter_constraints``.

A setting is a dataclass field declared with :func:`setting`: its default and one
:class:`Constraint` (its type and range, or its choices). A :class:`Settings` object checks every
field when it is built, so a wrong value is refused before any data is read or any network
trained, with a message that names the setting, the value and what is allowed::

    sampler.diffusion.timesteps = 1000000 is not allowed: an integer in [1, 10000]

Settings nest (a field may hold another :class:`Settings`), round-trip through JSON exactly
(:meth:`Settings.to_dict` / :meth:`Settings.from_dict`, which refuses unknown keys by name) and
are immutable; :func:`dataclasses.replace` gives a changed, re-checked copy. Pure Python: nothing
here imports numpy's or torch's heavier relatives, so the command line checks its settings in
well under a second.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar


class SettingError(ValueError):
    """A setting that is not allowed; the message names it, its value and what is allowed."""


class Constraint:
    """The allowed values of one setting. :meth:`check` returns the value in its canonical form
    (a float for a real number, a tuple for a sequence, a :class:`Settings` for a nested mapping)
    or raises :class:`SettingError` with the message's "what is allowed" part."""

    def check(self, value, name: str):
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def refuse(self, name: str, value) -> SettingError:
        return SettingError(f"{name} = {_show(value)} is not allowed: {self.describe()}")


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Interval(Constraint):
    """A number of ``kind`` (``int`` or ``float``) between ``low`` and ``high`` (None: unbounded);
    ``closed`` says which ends are included. Booleans are never numbers here; an ``int`` setting
    refuses 2.5 and accepts only integers (numpy's too), a ``float`` setting takes any finite real
    number and stores it as a float."""

    def __init__(self, kind: type, low=None, high=None, closed: str = "both"):
        if kind not in (int, float) or closed not in ("both", "left", "right", "neither"):
            raise TypeError(f"bad Interval({kind!r}, closed={closed!r})")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def check(self, value, name: str):
        integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if self.kind is int and not integral:
            raise self.refuse(name, value)
        if self.kind is float and (not real or not math.isfinite(float(value))):
            raise self.refuse(name, value)
        v = int(value) if self.kind is int else float(value)
        lo_ok = self.low is None or (
            v >= self.low if self.closed in ("both", "left") else v > self.low
        )
        hi_ok = self.high is None or (
            v <= self.high if self.closed in ("both", "right") else v < self.high
        )
        if not (lo_ok and hi_ok):
            raise self.refuse(name, value)
        return v

    def describe(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        if self.low is None and self.high is None:
            return what
        if self.high is None:
            return f"{what} {'>=' if self.closed in ('both', 'left') else '>'} {self.low}"
        if self.low is None:
            return f"{what} {'<=' if self.closed in ('both', 'right') else '<'} {self.high}"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"{what} in {left}{self.low}, {self.high}{right}"


class Options(Constraint):
    """One of a fixed set of strings."""

    def __init__(self, *values: str):
        self.values = tuple(values)

    def check(self, value, name: str):
        if not isinstance(value, str) or value not in self.values:
            raise self.refuse(name, value)
        return value

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class Boolean(Constraint):
    def check(self, value, name: str):
        if not isinstance(value, bool):
            raise self.refuse(name, value)
        return value

    def describe(self) -> str:
        return "true or false"


class Pattern(Constraint):
    """A string that matches the regular expression ``regex`` whole (``what``: how the
    message says it, e.g. "cpu, cuda or cuda:N")."""

    def __init__(self, regex: str, what: str):
        import re

        self.regex, self.what = re.compile(regex), what

    def check(self, value, name: str):
        if not isinstance(value, str) or not self.regex.fullmatch(value):
            raise self.refuse(name, value)
        return value

    def describe(self) -> str:
        return self.what


class Text(Constraint):
    """A non-empty string (a path, a column name)."""

    def check(self, value, name: str):
        if not isinstance(value, str) or not value.strip():
            raise self.refuse(name, value)
        return value

    def describe(self) -> str:
        return "a non-empty text"


class Optional(Constraint):
    """None, or a value ``inner`` allows."""

    def __init__(self, inner: Constraint):
        self.inner = inner

    def check(self, value, name: str):
        if value is None:
            return None
        try:
            return self.inner.check(value, name)
        except SettingError as e:
            if isinstance(self.inner, Nested):  # a nested setting's own message names it
                raise
            raise self.refuse(name, value) from e

    def describe(self) -> str:
        return f"none (null) or {self.inner.describe()}"


class Sequence(Constraint):
    """A list or tuple (stored as a tuple) whose items ``item`` allows; ``min_len`` items at
    least; ``unique`` refuses repeated items."""

    def __init__(self, item: Constraint, min_len: int = 0, unique: bool = False):
        self.item, self.min_len, self.unique = item, min_len, unique

    def check(self, value, name: str):
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise self.refuse(name, value)
        out = tuple(self.item.check(v, f"{name}[{i}]") for i, v in enumerate(value))
        if len(out) < self.min_len or (self.unique and len(set(out)) != len(out)):
            raise self.refuse(name, value)
        return out

    def describe(self) -> str:
        what = f"a list of {self.item.describe()}"
        if self.min_len:
            what += f", at least {self.min_len}"
        return what + (", each at most once" if self.unique else "")


class Table(Constraint):
    """A mapping from text keys to JSON values (options handed on to another checker, such as an
    encoder's keyword arguments or a method's options)."""

    def check(self, value, name: str):
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise self.refuse(name, value)
        return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in value.items()}

    def describe(self) -> str:
        return "a mapping of names to values"


class Nested(Constraint):
    """Another :class:`Settings` (or the mapping its :meth:`Settings.from_dict` reads)."""

    def __init__(self, cls: type[Settings]):
        self.cls = cls

    def check(self, value, name: str):
        if isinstance(value, self.cls):
            return value
        if isinstance(value, Mapping):
            return self.cls.from_dict(value, prefix=f"{name}.")
        raise self.refuse(name, value)

    def describe(self) -> str:
        return f"a {self.cls.__name__} or a mapping of its settings"


def setting(default: Any, constraint: Constraint, doc: str = ""):
    """A dataclass field: the default, the constraint, a one-line description (shown by
    ``latentdiff`` help texts and by :meth:`Settings.describe`)."""
    meta = {"constraint": constraint, "doc": doc}
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple (or None) as the default of a sequence setting")
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base of every configuration: checks each field against its declared constraint when
    built, then :meth:`_check_together` for rules that involve several fields."""

    #: prefix of this object's settings in messages (e.g. "sampler.") when nested
    _prefix: ClassVar[str] = ""

    def __post_init__(self) -> None:
        prefix = getattr(self, "_checking_prefix", "")
        for f in dataclasses.fields(self):
            c = f.metadata.get("constraint")
            if c is None:
                continue
            try:
                object.__setattr__(self, f.name, c.check(getattr(self, f.name), prefix + f.name))
            except SettingError as e:
                doc = f.metadata.get("doc")
                nested = isinstance(c, Nested) or isinstance(getattr(c, "inner", None), Nested)
                if not doc or (nested and str(e).startswith(f"{prefix}{f.name}.")):
                    raise
                raise SettingError(f"{e} [{doc}]") from None
        try:
            self._check_together()
        except SettingError as e:
            raise SettingError(f"{prefix}{e}") from None

    def _check_together(self) -> None:
        """Rules across fields; raise :class:`SettingError` naming the settings involved."""

    @classmethod
    def from_dict(cls, d: Mapping, prefix: str = ""):
        """The settings a mapping holds (e.g. read back from ``config.json``); a key that is not
        a setting is refused by name, with the known ones listed."""
        if not isinstance(d, Mapping):
            raise SettingError(f"{prefix.rstrip('.') or cls.__name__} must be a mapping, got "
                               f"{_show(d)}")  # fmt: skip
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in d if k not in known]
        if unknown:
            raise SettingError(
                f"unknown setting {prefix}{unknown[0]}; the settings of "
                f"{prefix.rstrip('.') or cls.__name__} are {', '.join(known)}"
            )
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_checking_prefix", prefix)
        try:
            obj.__init__(**d)
        finally:
            object.__delattr__(obj, "_checking_prefix")
        return obj

    def to_dict(self) -> dict:
        """JSON-ready: tuples as lists, nested settings as mappings."""

        def plain(v):
            if isinstance(v, Settings):
                return v.to_dict()
            if isinstance(v, tuple | list):
                return [plain(x) for x in v]
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            return v

        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes):
        """A re-checked copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str, str]]:
        """``(name, default, allowed, doc)`` of every setting, for help texts and docs."""
        out = []
        for f in dataclasses.fields(cls):
            c = f.metadata.get("constraint")
            default = f.default if f.default is not dataclasses.MISSING else None
            out.append((f.name, default, c.describe() if c else "", f.metadata.get("doc", "")))
        return out
