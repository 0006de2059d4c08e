"""Encoders for tabular rows and precomputed feature vectors."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ..data.base import DIRDataset, Split
from .base import EncoderSpec, tensor_inputs


def mlp(dims: list[int], dropout: float = 0.0) -> nn.Sequential:
    """Linear + ReLU (+ Dropout) for each consecutive pair of ``dims``."""
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


@dataclass
class _ArrayEncoder(EncoderSpec):
    """Inputs that are already a float matrix (N, d): tabular rows or precomputed features."""

    in_dim: int | None = field(default=None, init=False)  # learnt in prepare()

    modalities = ("tabular", "features")

    def prepare(self, dataset: DIRDataset) -> None:
        self.check(dataset)
        self.in_dim = int(dataset.train.X.shape[1])

    def inputs(self, split: Split):
        return tensor_inputs(split.X)

    def _in_dim(self) -> int:
        if self.in_dim is None:
            raise RuntimeError("call prepare(dataset) before build()")
        return self.in_dim


@dataclass
class MLPEncoder(_ArrayEncoder):
    """The paper's tabular encoder: MLP [256, 128, 64] with ReLU (seed 000, sec. 4); z = the
    last hidden layer (m = 64)."""

    hidden_dims: tuple[int, ...] = (256, 128, 64)
    dropout: float = 0.0

    def __post_init__(self):
        self.hidden_dims = tuple(int(d) for d in self.hidden_dims)
        if not self.hidden_dims or min(self.hidden_dims) < 1:
            raise ValueError(f"hidden_dims must be positive sizes, got {self.hidden_dims}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def build(self) -> nn.Module:
        return mlp([self._in_dim(), *self.hidden_dims], self.dropout)

    @property
    def out_dim(self) -> int:
        return self.hidden_dims[-1]


@dataclass
class IdentityEncoder(_ArrayEncoder):
    """Precomputed features are z itself (f = identity); only the head is learnt."""

    def build(self) -> nn.Module:
        return nn.Identity()

    @property
    def out_dim(self) -> int:
        return self._in_dim()
