"""SMOTER and SMOGN as network methods (seed 004, sec. 4 baselines): the training set is
resampled once, before stage 1, by :mod:`latentdiff.resampling`.

They resample the *encoder's inputs*: standardised rows for tabular data, and for text the frozen
sentence embeddings of the ``minilm`` encoder (the two sentences' vectors side by side), as seed
004 resampled in a fixed embedding space for STS-B-DIR. Inputs that have no vector space (token
ids of ``bilstm-glove``, image files) are refused with a message naming the way out.

SMOGN's perturbation is 0.1 here, the value seed 004 used for its tables (Branco et al. and the
``smogn`` package default to 0.02; ``--method-option smogn.pert=0.02``). Validation and test sets,
and the head retraining of combinations, use the real samples only.
"""

from __future__ import annotations

import numpy as np
from torch.utils.data import Dataset, TensorDataset

from .. import resampling
from ..encoders.base import tensor_inputs
from ..hooks import TrainHook
from .base import NetworkMethod, RunContext


def flatten_inputs(inputs: Dataset) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The float tensors of a TensorDataset side by side, (N, D), and their per-sample shapes."""
    if not isinstance(inputs, TensorDataset) or not all(
        t.is_floating_point() for t in inputs.tensors
    ):
        raise ValueError(
            "SMOTER / SMOGN resample real-valued encoder inputs (tabular rows, or frozen "
            "sentence embeddings: --encoder minilm); this encoder's inputs are token ids or "
            "image files, which have no space to interpolate in"
        )
    shapes = [tuple(t.shape[1:]) for t in inputs.tensors]
    X = np.concatenate([t.reshape(t.shape[0], -1).numpy() for t in inputs.tensors], axis=1)
    return X.astype(np.float64), shapes


def unflatten_inputs(X: np.ndarray, shapes: list[tuple[int, ...]]) -> TensorDataset:
    parts, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape)) if shape else 1
        parts.append(X[:, start : start + size].reshape((X.shape[0], *shape)).astype(np.float32))
        start += size
    return tensor_inputs(*parts)


class ResampleHook(TrainHook):
    kind = "data"

    def __init__(self, algorithm: str, **options):
        self.name = algorithm
        self.fn = {"smoter": resampling.smoter, "smogn": resampling.smogn}[algorithm]
        self.options = options
        self.n_before = self.n_after = None

    def transform_train(self, inputs: Dataset, y: np.ndarray, seed: int):
        X, shapes = flatten_inputs(inputs)
        X_new, y_new = self.fn(X, y, random_state=seed, **self.options)
        self.n_before, self.n_after = int(y.size), int(y_new.size)
        return unflatten_inputs(X_new, shapes), np.asarray(y_new, dtype=np.float64)

    def info(self) -> dict:
        return {"n_train_before": self.n_before, "n_train_after": self.n_after}


class _Resample(NetworkMethod):
    defaults: dict = {}

    def make_hooks(self, ctx: RunContext | None) -> list[TrainHook]:
        kw = {**self.defaults, **self.options}
        X = np.random.default_rng(0).normal(size=(60, 2))
        try:  # check the options on a toy problem now, not an hour later
            getattr(resampling, self.name)(X, np.exp(X[:, 0]), random_state=0, **kw)
        except TypeError as e:
            raise ValueError(f"{self.name}: {e}") from None
        return [ResampleHook(self.name, **kw)]


class SMOTER(_Resample):
    name = "smoter"


class SMOGN(_Resample):
    name = "smogn"
    defaults = {"pert": 0.1}
