"""VANILLA: the plain regression network, no treatment of imbalance (seed 004, sec. 4)."""

from __future__ import annotations

from .base import NetworkMethod


class Vanilla(NetworkMethod):
    name = "vanilla"
