"""SMOTER and SMOGN as network methods (seed 004, sec. 4 baselines): the training set is
resampled once, before stage 1, by the samplers of :mod:`latentdiff.samplers.smoter`.

They resample the *encoder's inputs*: standardised rows for tabular data, and for text the frozen
sentence embeddings of the ``minilm`` encoder (the two sentences' vectors side by side), as seed
004 resampled in a fixed embedding space for STS-B-DIR. Inputs that have no vector space (token
ids of ``bilstm-glove``, image files) are refused with a message naming the way out.

Relevance (``relevance`` option): ``"boxplot"`` is SMOTER's own, from the box-plot extremes of the
labels; ``"shots"`` marks as rare (relevance 1) the samples of the data set's few- and
medium-shot bins, the project's one definition of rare; ``"auto"`` (default) is ``"boxplot"``
unless the box plot finds no extreme label, as for STS-B-DIR's bounded scores, and then
``"shots"``. The run record says which was used (``<method>_relevance``). With ``"shots"`` the
rare runs of labels alternate with frequent ones, and a rare run of one sample is kept without
synthetic samples (it has no neighbour to interpolate with).

SMOGN's perturbation is 0.1 here, the value seed 004 used for its tables (Branco et al. and the
``smogn`` package default to 0.02; ``--method-option smogn.pert=0.02``). Validation and test sets,
and the head retraining of combinations, use the real samples only.
"""

from __future__ import annotations

import numpy as np
from torch.utils.data import Dataset, TensorDataset

from ..encoders.base import tensor_inputs
from ..hooks import TrainHook
from ..samplers.relevance import relevance as box_relevance
from ..samplers.smoter import smogn, smoter
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


RELEVANCE = ("auto", "boxplot", "shots")
ALGORITHMS = {"smoter": smoter, "smogn": smogn}


class ResampleHook(TrainHook):
    kind = "data"

    def __init__(self, algorithm: str, relevance: str = "auto", regions=None, **options):
        if relevance not in RELEVANCE:
            raise ValueError(f"relevance must be one of {RELEVANCE}, got {relevance!r}")
        self.name = algorithm
        self.fn = ALGORITHMS[algorithm]
        self.relevance, self.regions, self.options = relevance, regions, options
        self.used = None
        self.n_before = self.n_after = None

    def _relevance(self, y: np.ndarray) -> np.ndarray | None:
        """None: SMOTER's box-plot relevance; else 1 for few/medium-shot samples, 0 for many."""
        mode = self.relevance
        if mode == "auto":
            box = box_relevance(y, **{k: v for k, v in self.options.items()
                                                if k in ("coef", "extremes")})  # fmt: skip
            thr = self.options.get("rel_threshold", 0.5)
            mode = "boxplot" if np.any(box >= thr) or self.regions is None else "shots"
        self.used = mode
        if mode == "boxplot":
            return None
        if self.regions is None:
            raise ValueError("relevance 'shots' needs the data set's shot regions")
        return (self.regions.of(y) != "many").astype(np.float64)

    def transform_train(self, inputs: Dataset, y: np.ndarray, seed: int):
        X, shapes = flatten_inputs(inputs)
        rel = self._relevance(y)
        kw = {"small_bumps": "keep"} if rel is not None else {}
        X_new, y_new = self.fn(X, y, random_state=seed, rel=rel, **kw, **self.options)
        self.n_before, self.n_after = int(y.size), int(y_new.size)
        return unflatten_inputs(X_new, shapes), np.asarray(y_new, dtype=np.float64)

    def info(self) -> dict:
        return {"n_train_before": self.n_before, "n_train_after": self.n_after,
                "relevance": self.used}  # fmt: skip


class _Resample(NetworkMethod):
    hook = ResampleHook
    defaults: dict = {}

    def hook_options(self, ctx: RunContext | None) -> dict:
        kw = {**self.defaults, **self.options}
        X = np.random.default_rng(0).normal(size=(60, 2))
        # the sampler's own settings, checked on a toy problem now, not an hour later
        algorithm_options = {k: v for k, v in kw.items() if k != "relevance"}
        ALGORITHMS[self.name](X, np.exp(X[:, 0]), random_state=0, **algorithm_options)
        regions = None if ctx is None else ctx.dataset.regions
        return {"algorithm": self.name, "regions": regions, **kw}


class SmoterMethod(_Resample):
    name = "smoter"


class SmognMethod(_Resample):
    name = "smogn"
    defaults = {"pert": 0.1}
