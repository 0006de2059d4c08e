"""The encoder contract: how raw inputs become tensors and which module maps them to z = f(x).

An :class:`EncoderSpec` is configuration plus what it learns from the data set before training
(a vocabulary, an embedding cache, input dimensions). It builds the encoder module f_psi
(eq. 1, seed 000): ``module(*inputs) -> (B, out_dim)``; the linear head h_phi lives elsewhere.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from ..data.base import DIRDataset, Split


@dataclass
class EncoderSpec(ABC):
    """Base of every encoder family. Subclasses are dataclasses of their hyperparameters."""

    #: modalities this encoder accepts
    modalities = ()  # type: tuple[str, ...]

    def check(self, dataset: DIRDataset) -> None:
        if dataset.modality not in self.modalities:
            raise ValueError(
                f"encoder {type(self).__name__} takes {self.modalities} data, "
                f"but data set {dataset.name!r} is {dataset.modality!r}"
            )

    @abstractmethod
    def prepare(self, dataset: DIRDataset) -> None:
        """Learn what the encoder needs from the data set (dimensions, vocabulary, caches)."""

    @abstractmethod
    def inputs(self, split: Split) -> Dataset:
        """A torch Dataset whose item i is a tuple of input tensors for sample i (no label)."""

    def train_inputs(self, split: Split) -> Dataset:
        """Inputs for training; encoders with training-time augmentation override this."""
        return self.inputs(split)

    @abstractmethod
    def build(self) -> nn.Module:
        """A fresh encoder module; ``module(*batch) -> (B, out_dim)``."""

    @property
    @abstractmethod
    def out_dim(self) -> int:
        """m, the feature dimension."""

    def config(self) -> dict:
        return {"encoder": type(self).__name__, **asdict(self)}


def tensor_inputs(*arrays) -> TensorDataset:
    """In-memory inputs as a TensorDataset (float arrays to float32, integer arrays to int64)."""
    out = []
    for a in arrays:
        t = torch.as_tensor(a)
        out.append(t.float() if t.is_floating_point() else t.long())
    return TensorDataset(*out)
