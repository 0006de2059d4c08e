"""What every method shares: the run context (data, encoder, seed, the memoised vanilla fit)
and the output it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..data.base import DIRDataset
from ..encoders.base import EncoderSpec
from ..pipeline import VanillaFit, fit_vanilla
from ..training import HeadConfig, TrainConfig


@dataclass
class RunContext:
    """One (data set, encoder, seed) cell of a benchmark. Methods that build on the vanilla
    network share one training of it through :meth:`vanilla`."""

    dataset: DIRDataset
    make_encoder: Callable[[], EncoderSpec]
    train: TrainConfig
    seed: int
    sampler: dict = field(default_factory=dict)
    head: HeadConfig = field(default_factory=HeadConfig)
    progress: bool = True
    _vanilla: VanillaFit | None = field(default=None, repr=False)

    @property
    def vanilla_trained(self) -> bool:
        return self._vanilla is not None

    def vanilla(self) -> VanillaFit:
        if self._vanilla is None:
            self._vanilla = fit_vanilla(
                self.dataset, self.make_encoder(), self.train, self.seed, self.progress
            )
        return self._vanilla


@dataclass
class MethodOutput:
    """Predictions per split (label units) and diagnostics for the run record."""

    predictions: dict[str, np.ndarray]
    info: dict = field(default_factory=dict)


class Method(ABC):
    """A DIR method: given a run context, predict val and test."""

    name: ClassVar[str]

    @abstractmethod
    def run(self, ctx: RunContext) -> MethodOutput: ...
