"""The registry of methods, by the names the CLI accepts."""

from __future__ import annotations

from .base import Method, MethodOutput, RunContext
from .latentdiff import LatentDiff, RetrainHead
from .vanilla import Vanilla

METHODS: dict[str, type[Method]] = {
    "vanilla": Vanilla,
    "latentdiff": LatentDiff,
    "retrain-head": RetrainHead,
}


def get_method(name: str) -> Method:
    """A method instance by its registry name (lower case)."""
    key = name.strip().lower()
    if key not in METHODS:
        raise ValueError(f"unknown method {name!r}; known methods: {', '.join(METHODS)}")
    return METHODS[key]()


__all__ = ["METHODS", "Method", "MethodOutput", "RunContext", "get_method"]
