"""What every label-conditioned feature generator shares (the diffusion model of seed 000 and the
LatentGAN baseline of its app. E): construction from typed settings, input checks, the
standardisation of features and conditions, one seeded RNG for a fit, the training loop with its
checkpoints, and the batched sampling loop. A generator implements only what is its own:
building its networks (:meth:`FeatureGenerator._build`), one training step
(:meth:`FeatureGenerator._train_step`), the networks it samples with
(:meth:`FeatureGenerator._finish`) and the sampling of one batch
(:meth:`FeatureGenerator._sample_batch`).

Conditions ``c`` are label values (LatentDiff conditions on bin centres). Features and
conditions are standardised with the statistics of the training data (per-dimension mean and
std, the std floored at 1e-6), kept in ``z_mean_``, ``z_std_``, ``c_mean_``, ``c_std_``;
samples come back in feature units. A fit that starts from an exported generator
(``init_from``, :mod:`latentdiff.generators.transfer`) standardises conditions with the
source's statistics instead.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from .. import distributed, memory
from ..device import resolve_device
from ..io import fingerprint, load_state, save_state
from ..progress import progress_bar
from ..settings import GeneratorConfig
from ..validation import check_labels
from .protocol import ConditionalGenerator
from .stopping import MIN_HELDOUT, EarlyStopping, heldout_split, stopped_at
from .transfer import Pretrained, check_conditions, load_pretrained, save_pretrained


def make_ema(parameters: Iterable[nn.Parameter], decay: float):
    """diffusers' ``EMAModel`` over a network's parameters (foreach update: one fused kernel)."""
    from diffusers.training_utils import EMAModel  # imports transformers: only when training

    return EMAModel(parameters, decay=decay, foreach=True)


def optimiser_step(opt: torch.optim.Optimizer, loss: Tensor, module: nn.Module, grad_clip: float):
    """One step on ``loss``, the gradient norm of ``module`` bounded by ``grad_clip`` (0: none)."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        nn.utils.clip_grad_norm_(module.parameters(), grad_clip)
    opt.step()


def _seed(random_state: int | None) -> int:
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])  # fresh OS entropy
    return int(random_state)


@contextmanager
def _seeded_global_rng(seed: int, dev: torch.device):
    """Fork torch's global RNG (the caller's state is restored on exit) and seed the forked
    generators of the devices used: for what draws from it (weight init, dropout, spectral
    norm)."""
    cuda = (
        []
        if dev.type != "cuda"
        else [torch.cuda.current_device() if dev.index is None else dev.index]
    )
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


@dataclass
class TrainingParts:
    """What a generator's training loop carries from one step to the next, checkpointed and
    restored exactly: the networks, their optimisers, the EMA, both RNGs (the batch generator and
    the forked global one) and the loss history, one row per step.

    ``path`` None: no checkpoints. ``key_parts``: what the checkpoint is keyed by (the loop's
    inputs, configuration and seed), hashed by :func:`fingerprint` only when there is a path."""

    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    ema: object | None
    history: Tensor
    gen: torch.Generator
    device: torch.device
    path: Path | None
    key_parts: tuple
    every: int
    #: held-out losses, one per evaluation (NaN: not yet evaluated); empty: no early stopping
    heldout: Tensor = field(default_factory=lambda: torch.empty(0))
    #: steps already done when training began here (set by :meth:`resume`)
    start: int = field(default=0, init=False)
    #: under torchrun, the DistributedDataParallel wrappers of the generator's
    #: ``distributed_modules`` (what a training step calls); empty otherwise
    ddp: dict[str, nn.Module] = field(default_factory=dict, init=False)
    #: the seed the shards are shuffled from (under torchrun)
    shard_seed: int = field(default=0, init=False)
    _pass: tuple[int, np.ndarray | None] = field(default=(-1, None), init=False, repr=False)

    def network(self, name: str) -> nn.Module:
        """The network ``name`` as a training step calls it (its DDP wrapper under torchrun)."""
        return self.ddp.get(name, self.modules[name])

    def batch_rows(self, n: int, batch_size: int, step: int) -> Tensor:
        """Row indices (on the CPU) of step ``step``'s batch of ``n`` training rows.

        One process: ``batch_size`` uniform draws with replacement from ``gen``, as always.
        Under torchrun (:mod:`latentdiff.distributed`): the next ``ceil(batch_size / N)``
        rows of this process's DistributedSampler shard, read as one stream of passes, each
        pass a new shuffle (``set_epoch(pass)``); a function of the step, so a resumed fit
        takes up the stream where it was."""
        if not self.ddp:
            return torch.randint(n, (batch_size,), generator=self.gen)
        b = distributed.per_rank_batch(batch_size)
        first, rows = step * b, []
        while len(rows) < b:
            order = self._shard_pass(n, first // self._shard_len(n))
            at = first % order.size
            take = order[at : at + b - len(rows)]
            rows.extend(take.tolist())
            first += take.size
        return torch.as_tensor(rows, dtype=torch.int64)

    def _shard_len(self, n: int) -> int:
        return -(-n // distributed.world_size())  # DistributedSampler pads to equal shards

    def _shard_pass(self, n: int, epoch: int) -> np.ndarray:
        if self._pass[0] != epoch:
            self._pass = (epoch, distributed.shard_order(n, self.shard_seed, epoch))
        return self._pass[1]

    @cached_property
    def key(self) -> str:
        return fingerprint(*self.key_parts)

    def state(self, done: int) -> dict:
        state = {
            "modules": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "gen": self.gen.get_state(),
            "rng": torch.get_rng_state(),
            "history": self.history[:done].clone(),
        }
        if self.heldout.numel():
            state["heldout"] = self.heldout.clone()
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def resume(self) -> int:
        """Restore the last checkpoint, if there is one; return the number of steps it had done."""
        if self.path is None or not self.path.exists():
            return 0
        state, meta = load_state(self.path, self.key)
        done = int(meta["step"])
        for k, m in self.modules.items():
            m.load_state_dict(state["modules"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        self.gen.set_state(state["gen"])
        torch.set_rng_state(state["rng"])
        if self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
            self.ema.to(self.device)
        self.history[:done] = state["history"]
        if self.heldout.numel():
            self.heldout.copy_(state["heldout"])
        self.start = done
        return done

    def step_done(self, done: int, last: bool = False) -> None:
        """Checkpoint (atomically) every ``every`` steps and after the last one (``last``: an
        early stop)."""
        if self.path is not None and (last or done % self.every == 0 or done == len(self.history)):
            save_state(self.path, self.state(done), self.key, {"step": done})


class FeatureGenerator(ConditionalGenerator):
    """A conditional generator p(z | c) over feature vectors.

    Parameters
    ----------
    config : settings of the generator (``config_class``), a mapping of them, or None for the
        defaults.
    device : str or torch.device
        Where the networks are trained and run.
    random_state : int, optional
        Seed of the training run (weights, batches, noise, dropout). None: fresh entropy.
    progress : bool
        Show a progress bar during ``fit``.
    checkpoint : path, optional
        A safetensors file where ``fit`` keeps its training state (weights, optimisers, EMA, RNG
        states, losses) every ``checkpoint_every`` steps and at the end. A later ``fit`` on the
        same inputs, configuration and seed resumes from it and ends bit-identical to an
        uninterrupted fit on CPU; a checkpoint made from other inputs is refused (ValueError).
    checkpoint_every : int
        Optimiser steps between checkpoints.
    init_from : path or Pretrained, optional
        An exported generator (:meth:`export`) to start from instead of fresh weights: ``fit``
        fine-tunes it for ``config.n_steps`` steps on its own data (CoDSA's transfer, seed 001,
        app. A). Its kind, feature dimension and network settings must match; conditions are
        standardised with its statistics (:mod:`latentdiff.generators.transfer`).
    fine_tune : {"full", "head"}
        With ``init_from``: train every parameter, or only those of ``head_parameters`` (the
        rest stay as pretrained).
    """

    #: names the model in checkpoint keys and progress bars
    name: ClassVar[str]
    config_class: ClassVar[type[GeneratorConfig]]
    #: the names of the columns of the loss history, shown on the progress bar
    loss_names: ClassVar[tuple[str, ...]] = ("loss",)
    #: settings that change only sampling, not training (left out of checkpoint keys)
    sampling_settings: ClassVar[tuple[str, ...]] = ()
    #: settings that shape the networks or the process: a pretrained generator must share them
    structural_settings: ClassVar[tuple[str, ...]] = ()
    #: the network the EMA averages (and whose average samples)
    ema_module: ClassVar[str]
    #: the networks that train as one DistributedDataParallel job under torchrun, their batches
    #: drawn from each process's shard (:meth:`TrainingParts.batch_rows`); the others (and every
    #: network of a generator that names none) each process trains itself, identically
    distributed_modules: ClassVar[tuple[str, ...]] = ()
    #: ``fine_tune="head"``: per network, the prefixes of the parameters that are trained (the
    #: others keep their pretrained values); a network not named here is trained whole
    head_parameters: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(
        self,
        config=None,
        device: str | torch.device = "cpu",
        random_state: int | None = 0,
        progress: bool = True,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 250,
        init_from: str | Path | Pretrained | None = None,
        fine_tune: str = "full",
    ) -> None:
        if config is None:
            config = self.config_class()
        elif not isinstance(config, self.config_class):
            config = self.config_class.from_dict(config)
        if (
            isinstance(checkpoint_every, bool)
            or not isinstance(checkpoint_every, int)
            or (checkpoint_every < 1)
        ):
            raise ValueError(
                f"checkpoint_every must be a positive integer, got {checkpoint_every!r}"
            )
        self.config = config
        self.device = resolve_device(device)  # CUDA asked for and absent: refused now
        self.random_state = random_state
        self.progress = progress
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.checkpoint_every = checkpoint_every
        if fine_tune not in ("full", "head"):
            raise ValueError(f"fine_tune must be 'full' or 'head', got {fine_tune!r}")
        if fine_tune != "full" and init_from is None:
            raise ValueError(f"fine_tune={fine_tune!r} needs a pretrained generator (init_from)")
        self.init_from = init_from
        self.fine_tune = fine_tune

    # --- what a generator implements ------------------------------------------------------
    @abstractmethod
    def _floats_per_row(self, m: int) -> int:
        """Activations per batch row of one training step, for the memory check."""

    @abstractmethod
    def _build(self, m: int) -> tuple[dict, dict, object | None, Tensor]:
        """Fresh networks and optimisers (by name), the EMA (or None) and an empty loss history
        of one row per step, made under the seeded RNG."""

    @abstractmethod
    def _train_step(self, parts: TrainingParts, z: Tensor, y: Tensor, step: int) -> Tensor:
        """One optimiser step on standardised features ``z`` (N, m) and conditions ``y`` (N,);
        returns the step's row of the loss history."""

    @abstractmethod
    def _finish(self, parts: TrainingParts) -> nn.Module:
        """Keep the trained networks and the loss history (``*_`` attributes); return the
        network that samples (the EMA copy when there is one)."""

    @abstractmethod
    def _sample_batch(self, y: Tensor, gen: torch.Generator) -> Tensor:
        """Standardised features (b, m) for standardised conditions ``y`` (b,), drawn with
        ``self.sampling_network_``."""

    def _early_stopping(self) -> EarlyStopping | None:
        """How training stops early on a held-out loss; None (the default): it runs
        ``n_steps``."""
        return None

    def _heldout_draws(self, z: Tensor, gen: torch.Generator) -> tuple:
        """The fixed randomness of the held-out loss for held-out features ``z``."""
        raise NotImplementedError

    def _heldout_loss(self, parts: TrainingParts, z: Tensor, y: Tensor, draws: tuple) -> float:
        """The training loss on held-out features ``z`` and conditions ``y``, with the weights
        that sample (the EMA's, when there is one), no dropout and the fixed ``draws``."""
        raise NotImplementedError

    # --- shared -----------------------------------------------------------------------------
    @property
    def n_parameters_(self) -> int:
        """Number of trainable parameters of the network that samples."""
        self._check_fitted()
        return sum(p.numel() for p in self.sampling_network_.parameters())

    def _check_fitted(self) -> None:
        if not hasattr(self, "sampling_network_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(Z, c) first")

    def _standardised(self, Z, c, source: Pretrained | None = None) -> tuple[Tensor, Tensor]:
        """Check features Z (N, m) and conditions c (N,), keep their standardisation and return
        both standardised as float32 tensors on the device. With a pretrained ``source``, its
        feature dimension must be Z's, and c is standardised with its statistics."""
        zs, c = self._check_and_standardise(Z, c)
        self.c_range_ = (float(c.min()), float(c.max()))
        if source is not None:
            self._check_source(source, zs.shape[1], c)
            self.c_mean_, self.c_std_ = float(source.meta["c_mean"]), float(source.meta["c_std"])
        else:
            self.c_mean_ = float(c.mean())
            c_std = float(c.std())
            self.c_std_ = c_std if c_std > 1e-6 else 1.0  # one condition value: only centre it
        dev = self.device
        z = torch.as_tensor(zs, dtype=torch.float32, device=dev)
        y = torch.as_tensor((c - self.c_mean_) / self.c_std_, dtype=torch.float32, device=dev)
        return z, y

    def _check_source(self, source: Pretrained, m: int, c: np.ndarray) -> None:
        """Refuse a pretrained generator that cannot start this fit, naming what differs."""
        where = f"generator from {source.path}"
        if source.meta["generator"] != self.name:
            raise ValueError(f"{where} is a {source.meta['generator']}, not a {self.name}")
        if source.n_features != m:
            raise ValueError(
                f"{where} was trained on {source.n_features}-d features, this fit's features "
                f"are {m}-d: a generator transfers only between features of one dimension"
            )
        theirs, ours = source.meta["config"], self.config.to_dict()
        for name in self.structural_settings:
            if theirs.get(name) != ours[name]:
                raise ValueError(
                    f"{where} has {name} = {theirs.get(name)!r}, this fit's setting is "
                    f"{ours[name]!r}: a pretrained network is fine-tuned in its own shape "
                    f"(set {name} = {theirs.get(name)!r})"
                )
        check_conditions(source, c)

    def _start_from(self, source: Pretrained, modules: dict, ema):
        """Load the pretrained weights, freeze what ``head`` fine-tuning keeps, and start the
        EMA at the pretrained weights; returns the EMA."""
        for name, module in modules.items():
            module.load_state_dict(source.modules[name])
        self.trained_parameters_ = {}
        for name, module in modules.items():
            prefixes = self.head_parameters.get(name) if self.fine_tune == "head" else None
            for pname, p in module.named_parameters():
                p.requires_grad_(prefixes is None or pname.startswith(prefixes))
            self.trained_parameters_[name] = [
                n for n, p in module.named_parameters() if p.requires_grad
            ]
        if ema is not None:  # the average starts at the pretrained weights, not the fresh ones
            ema = make_ema(modules[self.ema_module].parameters(), self.config.ema_decay)
        return ema

    def _distribute(self, parts: TrainingParts, seed: int) -> None:
        """Under torchrun: wrap the ``distributed_modules`` in DDP (rank 0's weights on every
        process), shard the batches, and give each process its own noise and dropout streams
        (seed + rank; rank 0 keeps the single process's)."""
        parts.shard_seed = seed
        parts.ddp = {k: distributed.wrap(parts.modules[k]) for k in self.distributed_modules}
        own = seed + distributed.rank()
        parts.gen.manual_seed(own)
        torch.default_generator.manual_seed(own)
        if self.device.type == "cuda":
            torch.cuda.manual_seed(own)

    def fit(self, Z, c):
        """Train on features Z (N, m) conditioned on c (N,), in label units (with ``init_from``:
        fine-tune the pretrained generator on them)."""
        source = self.init_from
        if source is not None and not isinstance(source, Pretrained):
            source = load_pretrained(source)
        z, y = self._standardised(Z, c, source)
        seed = _seed(self.random_state)
        z, y, heldout = self._split_heldout(z, y, seed)
        batch_size = self.config.batch_size
        memory.require(
            8.0 * batch_size * self._floats_per_row(z.shape[1]),  # float32, ~2x the activations
            f"{self.name} training with batch_size = {batch_size:,}",
            "use a smaller batch_size",
        )
        train_settings = {
            k: v for k, v in self.config.to_dict().items() if k not in self.sampling_settings
        }
        with _seeded_global_rng(seed, self.device):
            modules, optimizers, ema, history = self._build(z.shape[1])  # seeded weight init
            if source is not None:
                ema = self._start_from(source, modules, ema)
            gen = torch.Generator().manual_seed(seed)  # batches, t, noise (on the CPU)
            key = (self.name, z, y, train_settings, seed, self.device.type)
            if source is not None:  # a fine-tuning resumes only from the same source and mode
                key += (("fine-tune", source.key, self.fine_tune),)
            parts = TrainingParts(modules, optimizers, ema, history, gen, self.device,
                                  self.checkpoint, key, self.checkpoint_every)  # fmt: skip
            if distributed.active() and self.distributed_modules:
                self._distribute(parts, seed)
            if heldout is not None:
                parts.heldout = torch.full((len(history) // heldout["every"],), float("nan"))
            self.resumed_from_step_ = parts.resume()
            self.step_cap_ = self._step_cap(len(z))
            done, stopped = self._train(parts, z, y, heldout, source, self.step_cap_)
        for module in parts.modules.values():
            module.eval()
        parts.history = parts.history[:done]
        self.n_steps_ = done
        self.early_stopping_ = None if heldout is None else {
            "heldout_rows": heldout["rows"],
            "eval_every": heldout["every"],
            "heldout_losses": parts.heldout[: done // heldout["every"]].tolist(),
            "stopped_at_step": done if stopped else None,
        }  # fmt: skip
        if heldout is None and self._early_stopping() is not None:
            self.early_stopping_ = {"heldout_rows": 0, "stopped_at_step": None,
                                    "note": f"fewer than {MIN_HELDOUT} rows to hold out: "
                                    "trained to the step cap"}  # fmt: skip
        self.sampling_network_ = self._finish(parts)
        #: the trained networks as exported: the EMA copy in place of the network it averages
        self.trained_modules_ = dict(parts.modules)
        if parts.ema is not None:
            self.trained_modules_[self.ema_module] = self.sampling_network_
        rows = parts.history.reshape(len(parts.history), -1)
        self.loss_summary_ = {  # mean of the first and of the last 50 steps, per loss
            name: [float(rows[:50, i].mean()), float(rows[-50:, i].mean())]
            for i, name in enumerate(self.loss_names)
        }
        self.transfer_ = None
        if source is not None:
            params = [p for m in parts.modules.values() for p in m.parameters()]
            self.transfer_ = {
                "from": str(source.path),
                "fine_tune": self.fine_tune,
                "source_conditions": list(source.c_range),
                "conditions": list(self.c_range_),
                "trained_parameters": sum(p.numel() for p in params if p.requires_grad),
                "frozen_parameters": sum(p.numel() for p in params if not p.requires_grad),
            }
        return self

    def _split_heldout(self, z: Tensor, y: Tensor, seed: int):
        """(training z, y, held-out set) for early stopping: the held-out set is None when the
        generator does not stop early or there are too few rows to hold out
        (:mod:`latentdiff.generators.stopping`)."""
        stopping = self._early_stopping()
        if stopping is None:
            return z, y, None
        train, held = heldout_split(y.cpu().numpy(), stopping.fraction, seed)
        if held.size < MIN_HELDOUT:
            return z, y, None
        gen = torch.Generator().manual_seed(seed + 1)  # not the training stream's generator
        zh, yh = z[torch.as_tensor(held)], y[torch.as_tensor(held)]
        heldout = {"z": zh, "y": yh, "draws": self._heldout_draws(zh, gen),
                   "rows": int(held.size), "every": stopping.every,
                   "patience": stopping.patience, "min_delta": stopping.min_delta}  # fmt: skip
        rows = torch.as_tensor(train, device=z.device)
        return z[rows], y[rows], heldout

    def _step_cap(self, n_rows: int) -> int:
        """The most steps this fit trains on ``n_rows`` training rows: ``n_steps`` (a generator
        may also bound the passes over the data)."""
        return self.config.n_steps

    def _train(self, parts: TrainingParts, z: Tensor, y: Tensor, heldout, source, cap: int):
        """Train from ``parts.start`` to ``cap`` steps, or until the held-out loss stops
        improving; returns the number of steps done and whether the held-out loss stopped it."""
        n = min(len(parts.history), cap)
        every = heldout["every"] if heldout is not None else 0
        rule = (heldout["patience"], heldout["min_delta"]) if heldout is not None else ()
        if every and stopped_at(parts.heldout[: parts.start // every], *rule) is not None:
            return parts.start, True  # resumed from the checkpoint of an early stop
        what = "fit" if source is None else f"fine-tune ({self.fine_tune})"
        bar = progress_bar(range(parts.start, n), f"{self.name} {what}", self.progress,
                           total=n, initial=parts.start)  # fmt: skip
        for module in parts.modules.values():
            module.train()
        done = parts.start
        for step in bar:
            parts.history[step] = self._train_step(parts, z, y, step).detach().cpu()
            done = step + 1
            if done % 50 == 0:
                recent = parts.history[done - 50 : done].reshape(50, -1).mean(dim=0)
                bar.set_postfix(
                    {k: f"{v:.4f}" for k, v in zip(self.loss_names, recent.tolist(), strict=True)}
                )
            if every and done % every == 0:
                k = done // every - 1
                loss = self._heldout_loss(parts, heldout["z"], heldout["y"], heldout["draws"])
                if parts.ddp:  # rank 0's loss decides for all: no process stops alone
                    loss = distributed.agree(loss, self.device)
                parts.heldout[k] = loss
                if stopped_at(parts.heldout[: k + 1], *rule) is not None:
                    parts.step_done(done, last=True)
                    bar.close()
                    return done, True
            parts.step_done(done, last=done == n)
        bar.close()
        return done, False

    def set_sampling(self, **settings) -> FeatureGenerator:
        """Change settings that only sampling reads (``sampling_settings``, e.g. the diffusion
        model's ``scheduler`` and ``sampling_steps``), checked, on this generator, fitted or not;
        the others shape training and are refused. Returns the generator."""
        other = sorted(set(settings) - set(self.sampling_settings))
        if other:
            raise ValueError(
                f"{', '.join(other)}: not a sampling setting of {self.name} (those are: "
                f"{', '.join(self.sampling_settings) or 'none'})"
            )
        self.config = self.config.replace(**settings)
        return self

    def export(self, path, metadata: dict | None = None) -> Path:
        """Write the trained generator for a later fit to start from (``init_from``): the
        weights it samples with, its settings, feature dimension and standardisation, the
        range of its conditions, and ``metadata`` (the sampler adds the label range and bins).
        safetensors and JSON, atomically (:mod:`latentdiff.generators.transfer`)."""
        self._check_fitted()
        meta = {
            "generator": self.name,
            "config": self.config.to_dict(),
            "n_features": int(self.n_features_in_),
            "c_mean": self.c_mean_,
            "c_std": self.c_std_,
            "c_range": list(self.c_range_),
            "n_steps": self.config.n_steps,
            "fine_tuned_from": None if self.transfer_ is None else self.transfer_["from"],
            **(metadata or {}),
        }
        return save_pretrained(path, self.trained_modules_, self.z_mean_, self.z_std_, meta)

    def sample(self, c, batch_size: int = 1024, random_state: int | None = None) -> np.ndarray:
        """Draw one feature vector per condition value in ``c`` (label units) -> (n, m) float32;
        deterministic given ``random_state`` (and ``batch_size``)."""
        batches = self.iter_sample(c, batch_size, random_state)  # checks the arguments
        return np.concatenate([np.empty((0, self.n_features_in_), np.float32), *batches])

    def iter_sample(self, c, batch_size: int = 1024, random_state: int | None = None):
        """:meth:`sample` one batch at a time: yields (b, m) float32 arrays, the rows of
        ``sample(c, batch_size, random_state)`` in order (the same numbers: one RNG runs through
        the batches). For generation larger than memory (:meth:`LatentDiffSampler.generate_to`).
        """
        self._check_fitted()
        c = check_labels(c, "c", allow_empty=True)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return self._batches(c, batch_size, random_state)

    def _batches(self, c: np.ndarray, batch_size: int, random_state: int | None):
        self.sampling_network_.eval()
        dev = self.device
        gen = torch.Generator().manual_seed(_seed(random_state))
        y = torch.as_tensor((c - self.c_mean_) / self.c_std_, dtype=torch.float32, device=dev)
        for start in range(0, len(c), batch_size):
            with torch.inference_mode():  # no autograd bookkeeping at all (no_grad keeps some)
                z = self._sample_batch(y[start : start + batch_size], gen).cpu().numpy()
            yield (z * self.z_std_ + self.z_mean_).astype(np.float32)  # un-standardise, (b, m)
