"""What every method shares: the run context (data, encoder, seed, the memoised networks), the
output it returns, and the two kinds of method.

* a :class:`NetworkMethod` changes how the network is trained (stage 1) through
  :class:`latentdiff.hooks.TrainHook` objects: vanilla (none), INV, SQINV, LDS, FDS, Focal-R,
  BMC / BNI / GAI, RankSim, ConR, SMOTER, SMOGN;
* a :class:`HeadMethod` works on a trained network's frozen features: RRT, LatentDiff,
  LatentGAN and the retrain-head control.

``a+b+...`` (:func:`latentdiff.methods.get_method`) trains one network with the hooks of every
network method named and applies at most one head method to it.
"""

from __future__ import annotations

import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..data.base import DIRDataset
from ..encoders.base import EncoderSpec
from ..hooks import TrainHook, check_hooks
from ..io import fingerprint
from ..pipeline import VanillaFit, fit_vanilla
from ..settings import HeadConfig, SamplerConfig, TrainConfig
from ..training import RegressionModel


def network_slug(key: tuple) -> str:
    """A file-name part for a network key: its method names, and a short hash of its options
    when it has any (``vanilla``, ``fds+lds``, ``lds.3f9a2b1c``)."""
    if not key:
        return "vanilla"
    names = "+".join(name for name, _ in key)
    options = [opts for _, opts in key if opts]
    return f"{names}.{fingerprint(repr(key))[:8]}" if options else names


@dataclass
class RunContext:
    """One (data set, encoder, seed) cell of a benchmark. Methods that build on the same trained
    network (``lds`` and ``latentdiff+lds``) share one training of it through :meth:`network`."""

    dataset: DIRDataset
    make_encoder: Callable[[], EncoderSpec]
    train: TrainConfig
    seed: int
    sampler: SamplerConfig | None = None
    head: HeadConfig | None = None
    progress: bool = True
    #: folder of this seed's checkpoints (networks, generator training state); None: none kept
    checkpoints: Path | None = None
    #: "mse" or "mae": the error the methods that choose on validation (``latentdiff-tuned``,
    #: ``auto``) average over bins, the data set's headline metric; None: the network's
    #: selection metric
    criterion: str | None = None
    #: where every stage runs ("cpu", "cuda", "cuda:N"; :mod:`latentdiff.device`)
    device: str = "cpu"
    #: rows per side of the feature sample a LatentDiff-family method keeps for the
    #: feature-quality analysis (:mod:`latentdiff.analysis.sample`); 0: none kept
    analysis_rows: int = 0
    _networks: dict[tuple, VanillaFit] = field(default_factory=dict, repr=False)
    #: outputs of the methods run in this context, by (name, options): ``auto`` reuses what the
    #: benchmark ran and the other way round; with the seconds each took when it ran
    _outputs: dict[tuple, tuple] = field(default_factory=dict, repr=False)
    #: seconds spent training networks since the counter was last reset (bench bookkeeping)
    fresh_seconds: float = 0.0
    #: fitted feature generators that this seed's LatentDiff-family methods share when they
    #: would fit the same one (:func:`latentdiff.samplers.latentdiff.shared_generators`)
    generators: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.sampler is None:
            self.sampler = SamplerConfig()
        if self.head is None:
            self.head = HeadConfig()

    @property
    def vanilla_trained(self) -> bool:
        return () in self._networks

    def network(self, key: tuple = (), make_hooks: Callable[[], list[TrainHook]] = list):
        """The network trained with the hooks of ``key`` (built by ``make_hooks``), trained on
        first use and memoised; with ``checkpoints``, saved there and loaded from there by a
        resumed run."""
        if key not in self._networks:
            t0 = time.perf_counter()
            path = None
            if self.checkpoints is not None:
                path = self.checkpoints / f"network-{network_slug(key)}.safetensors"
            net = fit_vanilla(
                self.dataset,
                self.make_encoder(),
                self.train,
                self.seed,
                self.progress,
                hooks=make_hooks(),
                checkpoint=path,
                device=self.device,
            )
            self._networks[key] = net
            if net.loaded_from is None:
                self.fresh_seconds += time.perf_counter() - t0
        return self._networks[key]

    def run_method(self, name: str, options: dict | None = None) -> tuple[MethodOutput, float]:
        """The output of method ``name`` (``a+b`` allowed) with ``options`` in this context, run
        on first use and memoised, and its own seconds: a network method's training time, a
        head method's time without the training of the network it works on (each network is
        counted once, under the method that is it, whichever method trained it first)."""
        from . import get_method  # the registry imports this module

        key = (name, _hashable(options or {}))
        if key not in self._outputs:
            t0, fresh0 = time.perf_counter(), self.fresh_seconds
            output = get_method(name, options).run(self)
            seconds = time.perf_counter() - t0 - (self.fresh_seconds - fresh0)
            if output.network_seconds is not None:
                seconds = output.network_seconds
            self._outputs[key] = (output, seconds)
        return self._outputs[key]

    def remember(self, name: str, options: dict | None, output: MethodOutput, seconds: float):
        """Take the output of ``name`` with ``options`` as run elsewhere (another Ray task of this
        seed): :meth:`run_method` then returns it instead of running the method again."""
        self._outputs[(name, _hashable(options or {}))] = (output, seconds)

    def generator_dir(self, name: str | None = None) -> Path | None:
        """Where the head method ``name`` (:meth:`head_name`) keeps its generator's training
        checkpoints: a folder of its own, since one benchmark method can run several head
        methods (``auto`` runs latentdiff-tuned and latentdiff-tuned+sqinv). Without a name:
        the folder of them all, which the benchmark empties once a method's results are
        recorded."""
        if self.checkpoints is None:
            return None
        root = self.checkpoints / "generator"
        return root if name is None else root / name

    def head_name(self, method: str, net: VanillaFit) -> str:
        """A head method's name with the network it works on (``latentdiff``,
        ``latentdiff+lds``): what its files in this seed's folder are named by."""
        key = next((k for k, v in self._networks.items() if v is net), ())
        return method if not key else f"{method}+{network_slug(key)}"

    def vanilla(self) -> VanillaFit:
        return self.network(())


@dataclass
class MethodOutput:
    """Predictions per split (label units) and diagnostics for the run record.

    ``network_seconds``: for a method that *is* a trained network, its training time (what the
    benchmark reports for it even when another method trained the shared network first).
    ``model``: the trained predictor f then h that made the predictions (what a saved model
    keeps to predict new rows); None where a method has no single network.
    ``analysis``: a LatentDiff-family method's real and synthetic feature sample
    (:class:`latentdiff.analysis.sample.FeatureSample`) when the context asks for one."""

    predictions: dict[str, np.ndarray]
    info: dict = field(default_factory=dict)
    network_seconds: float | None = None
    model: RegressionModel | None = None
    analysis: object | None = None


class Method(ABC):
    """A DIR method: given a run context, predict val and test."""

    name: ClassVar[str]
    #: the parts of a benchmark's configuration the method uses ("sampler", "head"; the
    #: generators' parts are named by :meth:`generators`): a part no chosen method uses is
    #: refused (:class:`latentdiff.settings.BenchConfig`)
    uses: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def run(self, ctx: RunContext) -> MethodOutput: ...

    def generators(self, chosen: str | None = None) -> tuple[str, ...]:
        """The feature generators the method fits (names of
        :data:`latentdiff.generators.GENERATORS`, each using the sampler's settings part of its
        name) when the sampler's ``generator`` setting (``--generator``) is ``chosen``; a
        ValueError when that setting contradicts the method. None here."""
        return ()


def _hashable(value):
    """An option's value as a hashable one (JSON lists become tuples)."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _keywords(cls: type) -> list[str] | None:
    """The keyword arguments ``cls(...)`` takes (its ``OPTIONS`` when it declares them), None
    when it takes any (``**kwargs``)."""
    if hasattr(cls, "OPTIONS"):
        return list(cls.OPTIONS)
    params = list(inspect.signature(cls).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return [p.name for p in params if p.kind is not p.VAR_POSITIONAL]


class NetworkMethod(Method):
    """A method that acts while the network is trained, through one training hook (``hook``;
    None for vanilla); keyword options configure the hook and are checked when the method is
    made, not after an hour of other methods."""

    hook: ClassVar[type[TrainHook] | None] = None

    def __init__(self, **options):
        self.options = options
        self.make_hooks(None)

    def hook_options(self, ctx: RunContext | None) -> dict:
        """The hook's keyword arguments: the method's own, data-set defaults from ``ctx`` (None:
        checking only) and the user's options."""
        return dict(self.options)

    def make_hooks(self, ctx: RunContext | None) -> list[TrainHook]:
        """Fresh hooks for one training, or a ValueError naming a wrong option."""
        if self.hook is None:
            if self.options:
                raise ValueError(f"{self.name} takes no options, got {sorted(self.options)}")
            return []
        known = _keywords(self.hook)
        unknown = [k for k in self.options if known is not None and k not in known]
        if unknown:
            raise ValueError(
                f"{self.name} has no option {unknown[0]!r}; its options are {', '.join(known)}"
            )
        try:
            return [self.hook(**self.hook_options(ctx))]
        except TypeError as e:  # an option the algorithm under the hook does not take
            raise ValueError(f"{self.name}: {e}") from None

    def key(self) -> tuple:
        """What identifies the network this method trains: its name and options (hashable)."""
        if self.name == "vanilla":
            return ()
        return ((self.name, tuple(sorted((k, _hashable(v)) for k, v in self.options.items()))),)

    def run(self, ctx: RunContext) -> MethodOutput:
        return Combined([self]).run(ctx)


class HeadMethod(Method):
    """A method that works on a trained network's features and head."""

    uses = frozenset({"head"})

    def __init__(self, **options):
        self.options = options
        if options:
            raise ValueError(f"{self.name} takes no options, got {sorted(options)}")

    @abstractmethod
    def run_on(self, ctx: RunContext, net: VanillaFit) -> MethodOutput: ...

    def run(self, ctx: RunContext) -> MethodOutput:
        return Combined([], self).run(ctx)


class Combined(Method):
    """Network methods trained together, then at most one head method on that network."""

    def __init__(self, parts: list[NetworkMethod], head: HeadMethod | None = None):
        self.parts, self.head_method = parts, head
        self.uses = frozenset() if head is None else head.uses
        self.name = "+".join([*(([head.name]) if head else []), *(p.name for p in parts)])
        names = [p.name for p in parts]
        if len(set(names)) != len(names):
            raise ValueError(f"a method is named twice in {self.name!r}")
        check_hooks([h for p in parts for h in p.make_hooks(None)])

    def key(self) -> tuple:
        return tuple(sorted(k for p in self.parts for k in p.key()))

    def generators(self, chosen: str | None = None) -> tuple[str, ...]:
        return () if self.head_method is None else self.head_method.generators(chosen)

    def make_hooks(self, ctx: RunContext) -> list[TrainHook]:
        return [h for p in self.parts for h in p.make_hooks(ctx)]

    def run(self, ctx: RunContext) -> MethodOutput:
        net = ctx.network(self.key(), lambda: self.make_hooks(ctx))
        if self.head_method is not None:
            return self.head_method.run_on(ctx, net)
        preds = {s: net.predictions(s) for s in ("val", "test")}
        info = {"best_epoch": net.result.best_epoch, "train_seconds": net.seconds}
        if net.loaded_from is not None:
            info["network_loaded_from_checkpoint"] = True
        for name, hook_info in net.hook_info.items():
            info.update({f"{name}_{k}": v for k, v in hook_info.items()})
        return MethodOutput(preds, info, network_seconds=net.seconds, model=net.model)
