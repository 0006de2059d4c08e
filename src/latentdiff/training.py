"""Training of the regression network y_hat = h_phi(f_psi(x)) (eq. 1, seed 000) and of the head
alone on feature vectors (LatentDiff stage 7), in one training loop.

:func:`fit_model` (stage 1) and :func:`fit_head` (stage 7) share :func:`_train`: the optimiser
with the hooks' parameter groups, the learning-rate schedule, gradient clipping, the epoch with
the best validation score (never test, seed 004 app. C), early stopping, the history and the
per-epoch checkpoints. What differs is the stage (:class:`_NetworkStage`, :class:`_HeadStage`):
which batches an epoch sees and what loss a batch has.

The two stages weight their losses differently, each for a reason:

* :func:`dataset_weighted_loss` (stage 1): ``mean_i(w_i l_i)`` over the batch, the weights
  scaled to mean one over the whole training set, as the DIR reference computes weighted losses;
* :func:`batch_normalised_loss` (stage 7): ``sum_i(w_i l_i) / sum_i(w_i)``: real and synthetic
  samples are mixed per epoch (r(t)) with ``synthetic_weight``, so no weight scale holds over
  the training set; a hook's loss there gets the batch's weights scaled to mean one.

Targets are standardised inside the model (``y_mean``, ``y_scale`` buffers) so one learning rate
serves labels in [0, 5] and prices in dollars; predictions and errors come back in label units.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, TensorDataset, default_collate

from . import distributed
from .binning import Bins
from .device import device_of, rng_devices
from .featurefile import FeatureFile
from .hooks import Step, TrainHook, check_hooks
from .io import load_state, save_state
from .progress import progress_bar
from .settings import HeadConfig, TrainConfig


class RegressionModel(nn.Module):
    """Encoder f_psi, linear head h_phi, and the label standardisation."""

    def __init__(self, encoder: nn.Module, out_dim: int, y_mean: float = 0.0, y_scale: float = 1.0):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(out_dim, 1)
        self.register_buffer("y_mean", torch.tensor(float(y_mean)))
        self.register_buffer("y_scale", torch.tensor(float(y_scale)))

    def features(self, *inputs) -> Tensor:
        return self.encoder(*inputs)  # (B, m)

    def forward(self, *inputs) -> Tensor:
        """Standardised prediction (B,)."""
        return self.head(self.features(*inputs)).squeeze(-1)

    def to_labels(self, out: Tensor) -> Tensor:
        return out * self.y_scale + self.y_mean

    def to_standard(self, y: Tensor) -> Tensor:
        return (y - self.y_mean) / self.y_scale


def label_scaler(y) -> tuple[float, float]:
    y = np.asarray(y, dtype=np.float64)
    s = float(y.std())
    return float(y.mean()), (s if s > 0 else 1.0)


def _batch(ds: Dataset, b: np.ndarray, device: torch.device | None = None) -> tuple[Tensor, ...]:
    """The input tensors of samples ``b`` of ``ds`` (moved to ``device`` when given: the data
    stay where they are, each batch goes to the model)."""
    if isinstance(ds, TensorDataset):
        bt = torch.as_tensor(b)
        out = tuple(t[bt] for t in ds.tensors)
    else:
        out = tuple(default_collate([ds[int(i)] for i in b]))
    return out if device is None else tuple(t.to(device) for t in out)


def _batches(ds: Dataset, idx: np.ndarray, batch_size: int, device: torch.device | None = None):
    """Yield input tensors for consecutive chunks of ``idx``."""
    for s in range(0, idx.size, batch_size):
        yield _batch(ds, idx[s : s + batch_size], device)


@torch.no_grad()
def predict(model: RegressionModel, inputs: Dataset, batch_size: int = 1024) -> np.ndarray:
    """Predictions in label units, (N,), computed on the model's device."""
    model.eval()
    idx, dev = np.arange(len(inputs)), device_of(model)
    out = [model.to_labels(model(*b)) for b in _batches(inputs, idx, batch_size, dev)]
    return torch.cat(out).double().cpu().numpy()


@torch.no_grad()
def encode(model: RegressionModel, inputs: Dataset, batch_size: int = 1024) -> np.ndarray:
    """Features z = f_psi(x) in eval mode, (N, m) float32 (LatentDiff stage 2), computed on the
    model's device."""
    model.eval()
    idx, dev = np.arange(len(inputs)), device_of(model)
    Z = [model.features(*b) for b in _batches(inputs, idx, batch_size, dev)]
    return torch.cat(Z).float().cpu().numpy()


def predict_from_features(model: RegressionModel, Z) -> np.ndarray:
    """h_phi(z) in label units (stage 8 uses f_psi then h_phi; this is the h_phi half).
    Features on disk (a FeatureFile) are read 65,536 rows at a time."""
    if isinstance(Z, FeatureFile):
        n, step = len(Z), 65_536
        rows = (Z.rows(np.arange(s, min(s + step, n))) for s in range(0, n, step))
        parts = [predict_from_features(model, r) for r in rows]
        return np.concatenate([np.empty(0), *parts])
    with torch.no_grad():
        Zt = torch.as_tensor(np.asarray(Z), dtype=torch.float32, device=device_of(model))
        out = model.head(Zt).squeeze(-1)
        return model.to_labels(out).double().cpu().numpy()


def _score(kind: str, y, p) -> float:
    e = np.asarray(p) - np.asarray(y)
    return float(np.mean(e**2) if kind == "mse" else np.mean(np.abs(e)))


# --- the two weightings ---------------------------------------------------------------------------
def _per_sample(kind: str, pred: Tensor, target: Tensor) -> Tensor:
    return (pred - target) ** 2 if kind == "mse" else (pred - target).abs()


def dataset_weighted_loss(kind: str, pred: Tensor, target: Tensor, weight: Tensor | None):
    """Stage 1: plain, or ``mean_i(w_i l_i)`` with weights of mean one over the training set
    (the DIR reference's weighted losses)."""
    per = _per_sample(kind, pred, target)
    return per.mean() if weight is None else (per * weight).mean()


def batch_normalised_loss(kind: str, pred: Tensor, target: Tensor, weight: Tensor):
    """Stage 7: ``sum_i(w_i l_i) / sum_i(w_i)`` over the batch."""
    return (_per_sample(kind, pred, target) * weight).sum() / weight.sum().clamp_min(1e-12)


# --- what the loop keeps --------------------------------------------------------------------------
class _BestEpoch:
    """Keeps the state of the epoch with the lowest validation score and says when ``patience``
    epochs have passed without a better one."""

    def __init__(self, module: nn.Module, patience: int | None):
        self.module, self.patience = module, patience
        self.val, self.epoch, self.state = np.inf, -1, None

    def update(self, val: float, epoch: int) -> bool:
        """Record an epoch; True when training should stop."""
        if val < self.val:
            self.val, self.epoch = val, epoch
            self.state = copy.deepcopy(self.module.state_dict())
            return False
        return self.patience is not None and epoch - self.epoch >= self.patience

    def restore(self) -> None:
        self.module.load_state_dict(self.state)


@dataclass
class TrainResult:
    best_epoch: int
    best_val: float
    history: list[dict] = field(default_factory=list)


@dataclass
class _EpochState:
    """What training carries from one epoch to the next, checkpointed and restored exactly."""

    module: nn.Module
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    best: _BestEpoch
    history: list
    rng: np.random.Generator
    hooks: list

    def save(self, path: Path, key: str, epochs_done: int, stopped: bool) -> None:
        state = {
            "model": self.module.state_dict(),
            "opt": self.opt.state_dict(),
            "best_state": self.best.state if self.best.state is not None else {},
            "rng": torch.get_rng_state(),
            "hooks": [h.state_dict() for h in self.hooks],
        }
        dev = device_of(self.module)
        if dev.type == "cuda":  # dropout draws from the GPU's generator there
            state["cuda_rng"] = torch.cuda.get_rng_state(dev)
        meta = {
            "epochs_done": epochs_done,
            "stopped": stopped,
            "sched_last_epoch": self.sched.last_epoch,
            "best_val": None if not np.isfinite(self.best.val) else float(self.best.val),
            "best_epoch": self.best.epoch,
            "history": self.history,
            "numpy_rng": self.rng.bit_generator.state,
        }
        save_state(path, state, key, meta)

    def resume(self, path: Path | None, key: str) -> tuple[int, bool]:
        """Restore the last saved epoch, if any: (epochs done, whether training had stopped)."""
        if path is None or not Path(path).exists():
            return 0, False
        state, meta = load_state(path, key)
        self.module.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])  # restores each group's learning rate too
        self.sched.last_epoch = meta["sched_last_epoch"]  # its milestones count from here
        self.best.state = state["best_state"] or None
        self.best.val = np.inf if meta["best_val"] is None else meta["best_val"]
        self.best.epoch = meta["best_epoch"]
        self.history[:] = meta["history"]
        self.rng.bit_generator.state = meta["numpy_rng"]
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], device_of(self.module))
        for h, s in zip(self.hooks, state["hooks"], strict=True):
            h.load_state_dict(s)
        return int(meta["epochs_done"]), bool(meta["stopped"])


# --- the one loop ---------------------------------------------------------------------------------
def _train(
    stage,
    select: nn.Module,
    hooks: list[TrainHook],
    config: TrainConfig,
    random_state: int,
    progress: bool,
    desc: str,
    checkpoint: Path | None = None,
    checkpoint_key: str = "",
) -> TrainResult:
    """Train ``stage.params`` (and the hooks' parameter groups) for ``config.epochs`` epochs;
    keep the state of ``select`` of the epoch with the best validation score.

    ``checkpoint``: a safetensors file where the training state is kept after every epoch
    (``select``'s weights, optimiser, learning-rate step, best epoch so far, batch-order and
    dropout RNGs, the hooks' state), stamped with ``checkpoint_key``. A later call with the same
    inputs and key continues after the last saved epoch and ends bit-identical to an
    uninterrupted run (CPU).

    Runs on the device of ``select``. Under torchrun (:mod:`latentdiff.distributed`) the stage
    shards its batches itself; here the hooks' own parameters are averaged over the processes,
    BatchNorm statistics are rank 0's after each epoch and rank 0's validation score decides.
    """
    rng = np.random.default_rng(random_state)
    dev, ddp = device_of(select), distributed.active()
    extra = [p for h in hooks for g in h.param_groups() for p in g["params"]]
    groups = [{"params": stage.params}] + [g for h in hooks for g in h.param_groups()]
    opt = torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(config.lr_milestones), gamma=0.1)
    best = _BestEpoch(select, config.patience)
    history: list[dict] = []
    val_key = f"val_{config.select_metric}"
    # dropout noise from random_state (each process its own under torchrun), caller's RNG kept
    with torch.random.fork_rng(devices=rng_devices(dev)):
        torch.manual_seed(int(random_state) + distributed.rank())
        state = _EpochState(select, opt, sched, best, history, rng, hooks)
        start, stopped = state.resume(checkpoint, checkpoint_key)
        epochs = range(start, config.epochs if not stopped else start)
        bar = progress_bar(epochs, desc, progress, total=config.epochs, initial=start, leave=False)
        for epoch in bar:
            total, seen = 0.0, 0
            for loss, n in stage.losses(epoch, rng):
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if ddp:
                    distributed.average_gradients(extra)
                if config.grad_clip:
                    nn.utils.clip_grad_norm_(stage.params, config.grad_clip)
                opt.step()
                total, seen = total + loss.item() * n, seen + n
            sched.step()
            if ddp:
                distributed.broadcast_buffers(select)
            stage.end_epoch(epoch)
            val = _score(config.select_metric, stage.y_val, stage.predict_val())
            if ddp:
                val = distributed.agree(val, dev)
            history.append(
                {"epoch": epoch, **stage.epoch_info(), "train_loss": total / max(seen, 1),
                 val_key: val}
            )  # fmt: skip
            bar.set_postfix(val=f"{val:.4g}")
            stop = best.update(val, epoch)
            if checkpoint is not None:
                state.save(checkpoint, checkpoint_key, epoch + 1, stop)
            if stop:
                break
    best.restore()
    select.eval()
    return TrainResult(best.epoch, best.val, history)


# --- stage 1: the network -------------------------------------------------------------------------
class _Forward(nn.Module):
    """Encoder, the hooks' feature calibration and head as one module: what DDP wraps."""

    def __init__(self, model: RegressionModel, hooks):
        super().__init__()
        self.model, self.hooks = model, hooks

    def forward(self, inputs: tuple[Tensor, ...], y_lab: Tensor, epoch: int):
        z = self.model.features(*inputs)
        for h in self.hooks:
            z = h.calibrate(z, y_lab, epoch)
        return z, self.model.head(z).squeeze(-1)


class _NetworkStage:
    """Stage 1: batches of the (hook-transformed) training inputs through encoder, the hooks'
    feature calibration and head; the hooks' loss or the plain one, plus their penalties.

    Under torchrun the forward pass runs through DistributedDataParallel and each process
    takes its DistributedSampler shard, ``ceil(batch_size / N)`` rows a step
    (:mod:`latentdiff.distributed`); alone, a permutation of all rows from ``rng``."""

    def __init__(self, model, inputs, y_train, val_inputs, y_val, weights, hooks, config, seed):
        self.model, self.inputs, self.y_train = model, inputs, y_train
        self.loss, self.batch_size = config.loss, config.batch_size
        self.val_inputs, self.y_val, self.hooks, self.seed = val_inputs, y_val, hooks, seed
        self.params = list(model.parameters())
        self.device = dev = device_of(model)
        self.y_lab = torch.as_tensor(y_train, dtype=torch.float32, device=dev)
        self.yt = model.to_standard(self.y_lab)
        self.w = (
            None if weights is None else torch.as_tensor(weights, dtype=torch.float32, device=dev)
        )
        self.forward = _Forward(model, hooks)
        if distributed.active():
            self.forward = distributed.wrap(self.forward)
            self.batch_size = distributed.per_rank_batch(config.batch_size)

    def _order(self, epoch: int, rng: np.random.Generator) -> np.ndarray:
        if distributed.active():
            return distributed.shard_order(self.y_train.size, self.seed, epoch)
        return rng.permutation(self.y_train.size)

    def losses(self, epoch: int, rng: np.random.Generator) -> Iterator[tuple[Tensor, int]]:
        self.model.train()
        perm = self._order(epoch, rng)
        for s in range(0, perm.size, self.batch_size):
            b = perm[s : s + self.batch_size]
            bt = torch.as_tensor(b, device=self.device)
            inputs = _batch(self.inputs, b, self.device)
            z, pred = self.forward(inputs, self.y_lab[bt], epoch)
            wb = None if self.w is None else self.w[bt]
            loss = None
            for h in self.hooks:
                loss = h.loss(pred, self.yt[bt], wb) if loss is None else loss
            if loss is None:
                loss = dataset_weighted_loss(self.loss, pred, self.yt[bt], wb)
            step = Step(self.model, inputs, z, pred, self.yt[bt], self.y_lab[bt], epoch)
            for h in self.hooks:
                p = h.penalty(step)
                if p is not None:
                    loss = loss + p
            yield loss, b.size

    def end_epoch(self, epoch: int) -> None:
        for h in self.hooks:
            h.end_epoch(self.model, self.inputs, self.y_train, epoch)

    def predict_val(self) -> np.ndarray:
        return predict(self.model, self.val_inputs)

    def epoch_info(self) -> dict:
        return {}


def fit_model(
    model: RegressionModel,
    train_inputs: Dataset,
    y_train,
    val_inputs: Dataset,
    y_val,
    config: TrainConfig,
    sample_weight=None,
    random_state: int = 0,
    progress: bool = True,
    desc: str = "train",
    hooks=(),
    bins: Bins | None = None,
    checkpoint: Path | None = None,
    checkpoint_key: str = "",
) -> TrainResult:
    """Stage 1: train encoder + head end to end; keep the epoch with the best validation score.

    ``hooks`` (:class:`latentdiff.hooks.TrainHook`) are the DIR methods acting in this training;
    ``bins`` are the label bins they count in (the data set's evaluation bins). ``checkpoint``:
    see :func:`_train`.
    """
    hooks = check_hooks(hooks)
    y_train = np.asarray(y_train, dtype=np.float64)
    if len(train_inputs) != y_train.size:
        raise ValueError(f"{len(train_inputs)} training inputs but {y_train.size} labels")
    for h in hooks:
        train_inputs, y_train = h.transform_train(train_inputs, y_train, random_state)
    if hooks and bins is None:
        bins = Bins.fit(y_train, n_bins=100)
    for h in hooks:
        h.setup(model, y_train, bins)
    if sample_weight is None:
        for h in hooks:
            w_h = h.sample_weights(y_train)
            sample_weight = w_h if w_h is not None else sample_weight
    if sample_weight is not None and np.size(sample_weight) != y_train.size:
        raise ValueError(f"{np.size(sample_weight)} sample weights for {y_train.size} samples")
    stage = _NetworkStage(model, train_inputs, y_train, val_inputs, y_val, sample_weight, hooks,
                          config, random_state)  # fmt: skip
    return _train(stage, model, hooks, config, random_state, progress, desc, checkpoint,
                  checkpoint_key)  # fmt: skip


# --- stage 7: the head on real + synthetic features -----------------------------------------------
class _HeadStage:
    """Stage 7: every epoch the real features and the synthetic ones r(t) asks for, shuffled,
    through the head alone; the hooks' loss (weights at batch mean one) or the plain one."""

    def __init__(self, model, Zr, yr, Zs, ys, w_real, w_syn, Zv, y_val, hooks, head, config):
        self.model, self.Zr, self.yr, self.Zs, self.ys = model, Zr, yr, Zs, ys
        self.w_real, self.w_syn, self.Zv, self.y_val = w_real, w_syn, Zv, y_val
        self.hooks, self.head = hooks, head
        self.loss, self.batch_size = config.loss, config.batch_size
        self.params = list(model.head.parameters())
        self.k = Zs.shape[0]

    def losses(self, epoch: int, rng: np.random.Generator) -> Iterator[tuple[Tensor, int]]:
        n_real, n_syn = self.Zr.shape[0], self.Zs.shape[0]
        r = self.head.ratio(epoch)  # r(t)
        if r is None or n_syn == 0:
            self.k, syn_idx = n_syn, np.arange(n_syn)
        else:
            self.k = int(round(r / (1 - r) * n_real)) if r > 0 else 0
            syn_idx = rng.choice(n_syn, size=self.k, replace=self.k > n_syn)
        dev = self.Zr.device
        idx = torch.as_tensor(syn_idx, device=dev)
        y = torch.cat([self.yr, self.ys[idx]])
        w = torch.cat([self.w_real, self.w_syn[idx]])
        perm = torch.as_tensor(rng.permutation(y.shape[0]), device=dev)
        self.model.head.train()
        for s in range(0, perm.numel(), self.batch_size):
            b = perm[s : s + self.batch_size]
            pred, wb = self.model.head(self._rows(b, syn_idx)).squeeze(-1), w[b]
            loss = None
            for h in self.hooks:
                loss = h.loss(pred, y[b], wb / wb.mean().clamp_min(1e-12)) if loss is None else loss
            if loss is None:
                loss = batch_normalised_loss(self.loss, pred, y[b], wb)
            yield loss, b.numel()

    def _rows(self, b: Tensor, syn_idx: np.ndarray) -> Tensor:
        """Rows ``b`` of [Z_real; Z_syn[syn_idx]], gathered for this batch only: synthetic
        features on disk (a FeatureFile) are read per batch, never as a whole."""
        n_real, dev = self.Zr.shape[0], self.Zr.device
        real = b < n_real
        if bool(real.all()):
            return self.Zr[b]
        Z = torch.empty((b.numel(), self.Zr.shape[1]), device=dev)
        Z[real] = self.Zr[b[real]]
        rows = syn_idx[(b[~real] - n_real).cpu().numpy()]
        if isinstance(self.Zs, FeatureFile):
            Z[~real] = torch.from_numpy(self.Zs.rows(rows)).to(dev)
        else:
            Z[~real] = self.Zs[torch.as_tensor(rows, device=dev)]
        return Z

    def end_epoch(self, epoch: int) -> None:
        pass

    def predict_val(self) -> np.ndarray:
        with torch.no_grad():
            return self.model.to_labels(self.model.head(self.Zv).squeeze(-1)).cpu().numpy()

    def epoch_info(self) -> dict:
        return {"synthetic_fraction": self.k / (self.Zr.shape[0] + self.k)}


def fit_head(
    model: RegressionModel,
    Z_real,
    y_real,
    Z_syn,
    y_syn,
    Z_val,
    y_val,
    head: HeadConfig,
    network: TrainConfig | None = None,
    random_state: int = 0,
    progress: bool = True,
    hooks=(),
    bins: Bins | None = None,
    synthetic_weights=None,
) -> TrainResult:
    """Stage 7: retrain ``model.head`` on real + synthetic features; the encoder is untouched.

    ``synthetic_weights``: one loss weight per synthetic sample, multiplying
    ``synthetic_weight`` (the head's ``sample_weighting``; required when it is not ``none``).

    ``network`` is the stage-1 configuration of the model, whose loss and selection metric the
    head takes unless ``head`` sets them. Of the ``hooks``, those with ``head_stage`` act here:
    their sample weights weight the real samples and, looked up at the synthetic labels, the
    synthetic ones (times ``synthetic_weight``); their loss replaces the plain one.
    """
    config = head.train_config(network or TrainConfig())
    hooks = [h for h in check_hooks(hooks) if h.head_stage]
    if not head.warm_start:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(random_state))
            model.head.reset_parameters()
    dev = device_of(model)  # the head retrains where the model is
    Zr = torch.as_tensor(np.asarray(Z_real), dtype=torch.float32, device=dev)
    if isinstance(Z_syn, FeatureFile):  # on disk: read per batch (stage 7 streams them)
        if Z_syn.shape[1] != Zr.shape[1]:
            raise ValueError(f"{Z_syn} has {Z_syn.shape[1]} features, the real ones {Zr.shape[1]}")
        Zs = Z_syn
    else:
        Zs = torch.as_tensor(
            np.asarray(Z_syn, dtype=np.float32).reshape(-1, Zr.shape[1]), device=dev
        )
    yr = model.to_standard(torch.as_tensor(np.asarray(y_real), dtype=torch.float32, device=dev))
    ys = model.to_standard(
        torch.as_tensor(np.asarray(y_syn), dtype=torch.float32, device=dev).reshape(-1)
    )
    Zv = torch.as_tensor(np.asarray(Z_val), dtype=torch.float32, device=dev)
    w_real = torch.ones(Zr.shape[0], device=dev)
    w_syn = torch.full((Zs.shape[0],), float(head.synthetic_weight), device=dev)
    if head.sample_weighting != "none" and Zs.shape[0]:
        if synthetic_weights is None:
            raise ValueError(f"sample_weighting = {head.sample_weighting!r} needs the synthetic "
                             f"samples' weights, and none were given (this caller does not "
                             f"compute them: use sample_weighting = 'none')")  # fmt: skip
        sw = np.asarray(synthetic_weights, dtype=np.float64).reshape(-1)
        if sw.size != Zs.shape[0] or not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError(f"synthetic_weights must be {Zs.shape[0]} finite values >= 0")
        w_syn = w_syn * torch.as_tensor(sw, dtype=torch.float32, device=dev)
    if hooks:
        y_real_np = np.asarray(y_real, dtype=np.float64).reshape(-1)
        bins = bins if bins is not None else Bins.fit(y_real_np, n_bins=100)
        for h in hooks:
            h.setup(model, y_real_np, bins)
            wr = h.sample_weights(y_real_np)
            if wr is not None:
                w_real = w_real * torch.as_tensor(wr, dtype=torch.float32, device=dev)
                if Zs.shape[0]:
                    ws = h.sample_weights(np.asarray(y_syn, dtype=np.float64).reshape(-1))
                    w_syn = w_syn * torch.as_tensor(ws, dtype=torch.float32, device=dev)
    stage = _HeadStage(model, Zr, yr, Zs, ys, w_real, w_syn, Zv, y_val, hooks, head, config)
    return _train(stage, model.head, hooks, config, random_state, progress, "head")
