"""The whole of Fig. 2 (seed 000) on a :class:`DIRDataset`.

1. train encoder + head (vanilla)            -> :func:`fit_vanilla`
2. extract and cache training features z     -> :meth:`VanillaFit.features`
3-6. diffusion, priority, generation, gate   -> :class:`latentdiff.samplers.LatentDiffSampler`
7. retrain the head on real + synthetic z    -> :func:`fit_latentdiff` (``training.fit_head``)
8. predict with f then h                     -> :meth:`LatentDiffFit.predict`
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import priority_sample_weights
from .data.base import DIRDataset
from .device import resolve_device
from .encoders.base import EncoderSpec
from .featurefile import FeatureFile
from .io import fingerprint, load_state, save_state
from .metrics import shot_metrics
from .samplers import LatentDiffSampler
from .settings import HeadConfig, TrainConfig
from .training import (
    RegressionModel,
    TrainResult,
    encode,
    fit_head,
    fit_model,
    label_scaler,
    predict,
    predict_from_features,
)

SPLITS = ("train", "val", "test")


@dataclass
class VanillaFit:
    """A trained vanilla network with its data set; features and predictions are computed once
    per split and cached (stage 2)."""

    model: RegressionModel
    encoder: EncoderSpec
    dataset: DIRDataset
    result: TrainResult
    seconds: float
    #: the stage-1 configuration it was trained with (head retraining takes its loss)
    train: TrainConfig = field(default_factory=TrainConfig)
    hooks: list = field(default_factory=list)
    #: the hooks' diagnostics at the end of training (``TrainHook.info``), by hook name
    hook_info: dict = field(default_factory=dict)
    #: the checkpoint the network was loaded from instead of trained (None: trained here)
    loaded_from: Path | None = None
    _inputs: dict[str, Dataset] = field(default_factory=dict, repr=False)
    _cache: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, repr=False)

    def inputs(self, split: str) -> Dataset:
        if split not in self._inputs:
            self._inputs[split] = self.encoder.inputs(getattr(self.dataset, split))
        return self._inputs[split]

    def features(self, split: str) -> np.ndarray:
        """z = f_psi(x) for a split, (N, m) float32."""
        if ("z", split) not in self._cache:
            self._cache[("z", split)] = encode(self.model, self.inputs(split))
        return self._cache[("z", split)]

    def predictions(self, split: str) -> np.ndarray:
        if ("pred", split) not in self._cache:
            self._cache[("pred", split)] = predict(self.model, self.inputs(split))
        return self._cache[("pred", split)]


def fit_vanilla(
    dataset: DIRDataset,
    encoder: EncoderSpec,
    train: TrainConfig | None = None,
    random_state: int = 0,
    progress: bool = True,
    hooks=(),
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
) -> VanillaFit:
    """Stage 1: train f_psi and h_phi end to end, selecting the epoch on validation.

    ``hooks`` are the DIR methods acting in this training (:mod:`latentdiff.hooks`); without any
    it is the vanilla network. They count labels in the data set's evaluation bins.

    ``checkpoint``: a safetensors file. The trained network is saved there; when the file
    already holds the network of the same data, encoder, training configuration, hooks and
    seed (:func:`network_key`), it is loaded instead of trained (bit-identical weights). A
    checkpoint of anything else is refused with a ValueError. Until training ends, its state
    after every epoch is kept beside it (``NAME.training.safetensors``), and a training
    interrupted half-way continues from its last epoch.

    ``device``: where the network trains and runs (:mod:`latentdiff.device`); it is built on the
    CPU under the seed (the same initial weights everywhere) and moved there.
    """
    train = train or TrainConfig()
    device = resolve_device(device)  # CUDA asked for and absent: refused before training
    hooks = list(hooks)
    t0 = time.perf_counter()
    checkpoint = None if checkpoint is None else Path(checkpoint)
    if checkpoint is not None:
        key = network_key(dataset, encoder, train, random_state, hooks, device)  # before hooks
    encoder.prepare(dataset)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(random_state))
        model = RegressionModel(encoder.build(), encoder.out_dim, *label_scaler(dataset.train.y))
    model.to(device)
    fit = VanillaFit(model, encoder, dataset, TrainResult(-1, float("nan")), 0.0, train, hooks)
    if checkpoint is not None and checkpoint.exists():
        state, meta = load_state(checkpoint, key)
        try:
            model.load_state_dict(state["model"])
        except (KeyError, RuntimeError) as e:
            raise ValueError(
                f"{checkpoint}: the saved network does not fit this one ({e})"
            ) from None
        fit.result = TrainResult(**meta["result"])
        fit.seconds, fit.hook_info, fit.loaded_from = meta["seconds"], meta["hook_info"], checkpoint
        return fit
    fit.result = fit_model(
        model,
        encoder.train_inputs(dataset.train),
        dataset.train.y,
        fit.inputs("val"),
        dataset.val.y,
        train,
        random_state=random_state,
        progress=progress,
        desc=f"{'+'.join(h.name for h in hooks) or 'vanilla'} {dataset.name}",
        hooks=fit.hooks,
        bins=dataset.eval_bins,
        checkpoint=None if checkpoint is None else _epochs_file(checkpoint),
        checkpoint_key=key if checkpoint is not None else "",
    )
    fit.hook_info = {h.name: h.info() for h in hooks}
    fit.seconds = time.perf_counter() - t0
    if checkpoint is not None:
        meta = {"result": asdict(fit.result), "seconds": fit.seconds, "hook_info": fit.hook_info}
        save_state(checkpoint, {"model": model.state_dict()}, key, meta)
        _epochs_file(checkpoint).unlink(missing_ok=True)  # the trained network supersedes it
    return fit


def _epochs_file(checkpoint: Path) -> Path:
    """Where training keeps its per-epoch state until the network is saved at ``checkpoint``."""
    return checkpoint.with_name(f"{checkpoint.stem}.training{checkpoint.suffix}")


def _hook_config(hook) -> dict:
    """A hook's settings as its attributes before training: the JSON-able ones (options such as
    a kernel name, sigma, gamma; state built in ``setup`` is still None then)."""
    out = {}
    for k, v in sorted(vars(hook).items()):
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return {"hook": type(hook).__name__, **out}


def network_key(
    dataset: DIRDataset, encoder: EncoderSpec, train: TrainConfig, seed, hooks, device="cpu"
) -> str:
    """What a stage-1 network is a function of: the data set's :meth:`fingerprint`, the encoder's
    configuration, the training configuration, the seed, every hook's settings and, off the
    CPU, the kind of device (a GPU's network is not the CPU's bit for bit; the CPU key is the
    one it always was)."""
    parts = [[_hook_config(h) for h in hooks]]
    if torch.device(device).type != "cpu":
        parts.append(torch.device(device).type)
    return fingerprint(
        "network", dataset.fingerprint(), encoder.config(), train.to_dict(), int(seed), *parts
    )


@dataclass
class LatentDiffFit:
    """Stages 3-8 on top of a vanilla fit: the sampler, the retrained head and its model."""

    vanilla: VanillaFit
    model: RegressionModel
    sampler: LatentDiffSampler
    head_result: TrainResult
    #: accepted synthetic features (n_syn, m); a FeatureFile on disk with ``stream_dir``
    Z_syn: np.ndarray | FeatureFile
    y_syn: np.ndarray  # their labels, the bin centres
    seconds: dict

    @property
    def n_synthetic(self) -> int:
        return int(self.y_syn.size)

    def predict(self, split: str) -> np.ndarray:
        """Stage 8: f_psi (the vanilla encoder, unchanged) then the retrained h_phi."""
        return predict_from_features(self.model, self.vanilla.features(split))

    def consistency(self) -> list[dict]:
        """Per generation bin: what the vanilla head predicts on real and on synthetic features
        of the bin, and what the retrained head predicts on the same real features.

        Synthetic features that carry their label make the vanilla head predict about what it
        predicts on real features of the bin; the retrained head should move real predictions
        towards the bin centre.
        """
        bins = self.sampler.bins_
        y = self.vanilla.dataset.train.y
        b_real, b_syn = bins.assign(y), bins.assign(self.y_syn) if self.y_syn.size else None
        p_real0 = self.vanilla.predictions("train")
        p_real1 = predict_from_features(self.model, self.vanilla.features("train"))
        p_syn0 = predict_from_features(self.vanilla.model, self.Z_syn) if self.y_syn.size else None

        def mean(p, b, k):
            return None if p is None or not np.any(b == k) else float(p[b == k].mean())

        return [
            {
                "bin": k,
                "center": float(bins.centers[k]),
                "vanilla_on_real": mean(p_real0, b_real, k),
                "vanilla_on_synthetic": mean(p_syn0, b_syn, k),
                "retrained_on_real": mean(p_real1, b_real, k),
            }
            for k in range(bins.n_bins)
        ]


def fit_latentdiff(
    vanilla: VanillaFit,
    sampler: LatentDiffSampler | None = None,
    head: HeadConfig | None = None,
    random_state: int = 0,
    progress: bool = True,
) -> LatentDiffFit:
    """Stages 3-7: generate synthetic features where labels are rare or errors high, gate them,
    and retrain the head on real + accepted synthetic features.

    With the sampler's ``stream_dir`` the accepted features go to a ``.npy`` file there and the
    head reads them per batch (:meth:`LatentDiffSampler.generate_to`); ``Z_syn`` of the result
    is that file (a :class:`~latentdiff.featurefile.FeatureFile`, removed by the caller)."""
    sampler = copy.deepcopy(sampler) if sampler is not None else LatentDiffSampler()
    if sampler.random_state is None:
        sampler.set_params(random_state=random_state)
    ds = vanilla.dataset
    t0 = time.perf_counter()
    Z = vanilla.features("train")
    errors = np.abs(vanilla.predictions("train") - ds.train.y)  # eq. 8 inputs
    sampler.fit(Z, ds.train.y, sample_errors=errors)
    t1 = time.perf_counter()
    Z_syn, y_syn = sampler.generate()
    t2 = time.perf_counter()
    weights = synthetic_sample_weights(sampler, y_syn, head)
    model, head_result = refit_head(vanilla, Z_syn, y_syn, head, random_state, progress,
                                    synthetic_weights=weights)  # fmt: skip
    t3 = time.perf_counter()
    seconds = {"sampler_fit": t1 - t0, "generate_and_gate": t2 - t1, "head": t3 - t2}
    return LatentDiffFit(vanilla, model, sampler, head_result, Z_syn, y_syn, seconds)


def synthetic_sample_weights(sampler: LatentDiffSampler, y_syn, head: HeadConfig | None):
    """The per-sample loss weights of the accepted synthetic features under the head's
    ``sample_weighting`` (None for ``none``): ``priority`` weighs each by its generation bin's
    priority P(y), mean one (:func:`latentdiff.augment.priority_sample_weights`)."""
    if head is None or head.sample_weighting == "none":
        return None
    y = np.asarray(y_syn, dtype=np.float64).reshape(-1)
    bins = sampler.bins_.assign(y) if y.size else np.empty(0, np.int64)  # labels lie in their bin
    return priority_sample_weights(sampler.priority_, bins)


def refit_head(
    vanilla: VanillaFit,
    Z_syn,
    y_syn,
    head: HeadConfig | None = None,
    random_state: int = 0,
    progress: bool = True,
    hooks=None,
    synthetic_weights=None,
) -> tuple[RegressionModel, TrainResult]:
    """Stage 7: a copy of the vanilla network whose head is retrained on the real training
    features plus ``(Z_syn, y_syn)`` (possibly none), selected on validation.

    ``hooks`` act on the head's loss and weights (default: the network's own stage-1 hooks);
    ``synthetic_weights`` multiply the synthetic samples' loss weights (the head's
    ``sample_weighting``: :func:`synthetic_sample_weights`)."""
    ds = vanilla.dataset
    model = copy.deepcopy(vanilla.model)
    result = fit_head(
        model,
        vanilla.features("train"),
        ds.train.y,
        Z_syn,
        y_syn,
        vanilla.features("val"),
        ds.val.y,
        head or HeadConfig(),
        vanilla.train,
        random_state=random_state,
        progress=progress,
        hooks=vanilla.hooks if hooks is None else hooks,
        bins=ds.eval_bins,
        synthetic_weights=synthetic_weights,
    )
    return model, result


class LatentDiffPipeline:
    """Train vanilla, augment its feature space with LatentDiff, retrain the head.

    Parameters
    ----------
    encoder : EncoderSpec
        The encoder family for the data set's modality (e.g. ``MLPEncoder()``).
    train : TrainConfig, optional
        Stage-1 optimisation.
    sampler : LatentDiffSampler, optional
        Stages 3-6 settings (Table 6 defaults).
    head : HeadConfig, optional
        Stage-7 settings, including the mixing schedule r(t).
    """

    def __init__(
        self,
        encoder: EncoderSpec,
        train: TrainConfig | None = None,
        sampler: LatentDiffSampler | None = None,
        head: HeadConfig | None = None,
        random_state: int = 0,
        progress: bool = True,
    ):
        self.encoder = encoder
        self.train = train
        self.sampler = sampler
        self.head = head
        self.random_state = random_state
        self.progress = progress

    def fit(self, dataset: DIRDataset) -> LatentDiffPipeline:
        self.vanilla_ = fit_vanilla(
            dataset, self.encoder, self.train, self.random_state, self.progress
        )
        self.latentdiff_ = fit_latentdiff(
            self.vanilla_, self.sampler, self.head, self.random_state, self.progress
        )
        return self

    def predict(self, split: str = "test") -> np.ndarray:
        return self.latentdiff_.predict(split)

    def evaluate(self, split: str = "test") -> dict[str, dict]:
        """Shot metrics of vanilla and LatentDiff on a split of the fitted data set."""
        ds = self.vanilla_.dataset
        y = getattr(ds, split).y
        regions = ds.regions.of(y)
        return {
            "vanilla": shot_metrics(y, self.vanilla_.predictions(split), regions),
            "latentdiff": shot_metrics(y, self.latentdiff_.predict(split), regions),
        }
