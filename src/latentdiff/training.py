"""Training of the regression network y_hat = h_phi(f_psi(x)) (eq. 1, seed 000) and of the head
alone on feature vectors (LatentDiff stage 7).

Targets are standardised inside the model (``y_mean``, ``y_scale`` buffers) so one learning rate
serves labels in [0, 5] and prices in dollars; predictions and errors come back in label units.
Model selection is on the validation split, never on test (seed 004, app. C).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset, default_collate
from tqdm.auto import tqdm

from .binning import Bins
from .hooks import Step, check_hooks
from .io import load_state, save_state


@dataclass
class TrainConfig:
    """Optimisation of the vanilla network (stage 1) or of the head (stage 7).

    ``patience`` stops after that many epochs without a better validation score (None: never).
    ``lr_milestones`` multiply the learning rate by 0.1 at those epochs (DIR's [60, 80]).
    """

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    loss: Literal["mse", "l1"] = "mse"
    select_metric: Literal["mse", "mae"] = "mse"
    patience: int | None = 15
    lr_milestones: tuple[int, ...] = ()
    grad_clip: float | None = 5.0

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.loss not in ("mse", "l1"):
            raise ValueError(f"loss must be 'mse' or 'l1', got {self.loss!r}")
        if self.select_metric not in ("mse", "mae"):
            raise ValueError(f"select_metric must be 'mse' or 'mae', got {self.select_metric!r}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience!r}")
        self.lr_milestones = tuple(int(m) for m in self.lr_milestones)


class RegressionModel(nn.Module):
    """Encoder f_psi, linear head h_phi, and the label standardisation."""

    def __init__(self, encoder: nn.Module, out_dim: int, y_mean: float = 0.0, y_scale: float = 1.0):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(out_dim, 1)
        self.register_buffer("y_mean", torch.tensor(float(y_mean)))
        self.register_buffer("y_scale", torch.tensor(float(y_scale)))

    def features(self, *inputs) -> torch.Tensor:
        return self.encoder(*inputs)  # (B, m)

    def forward(self, *inputs) -> torch.Tensor:
        """Standardised prediction (B,)."""
        return self.head(self.features(*inputs)).squeeze(-1)

    def to_labels(self, out: torch.Tensor) -> torch.Tensor:
        return out * self.y_scale + self.y_mean

    def to_standard(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.y_mean) / self.y_scale


def label_scaler(y) -> tuple[float, float]:
    y = np.asarray(y, dtype=np.float64)
    s = float(y.std())
    return float(y.mean()), (s if s > 0 else 1.0)


def _batch(ds: Dataset, b: np.ndarray) -> tuple[torch.Tensor, ...]:
    """The input tensors of samples ``b`` of ``ds``."""
    if isinstance(ds, TensorDataset):
        bt = torch.as_tensor(b)
        return tuple(t[bt] for t in ds.tensors)
    return tuple(default_collate([ds[int(i)] for i in b]))


def _batches(ds: Dataset, idx: np.ndarray, batch_size: int):
    """Yield input tensors for consecutive chunks of ``idx``."""
    for s in range(0, idx.size, batch_size):
        yield _batch(ds, idx[s : s + batch_size])


def _loss(kind: str, pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None):
    per = (pred - target) ** 2 if kind == "mse" else (pred - target).abs()
    if weight is None:
        return per.mean()
    return (per * weight).sum() / weight.sum().clamp_min(1e-12)


@torch.no_grad()
def predict(model: RegressionModel, inputs: Dataset, batch_size: int = 1024) -> np.ndarray:
    """Predictions in label units, (N,)."""
    model.eval()
    idx = np.arange(len(inputs))
    out = [model.to_labels(model(*b)) for b in _batches(inputs, idx, batch_size)]
    return torch.cat(out).double().numpy()


@torch.no_grad()
def encode(model: RegressionModel, inputs: Dataset, batch_size: int = 1024) -> np.ndarray:
    """Features z = f_psi(x) in eval mode, (N, m) float32 (LatentDiff stage 2)."""
    model.eval()
    idx = np.arange(len(inputs))
    return (
        torch.cat([model.features(*b) for b in _batches(inputs, idx, batch_size)]).float().numpy()
    )


def _score(kind: str, y, p) -> float:
    e = np.asarray(p) - np.asarray(y)
    return float(np.mean(e**2) if kind == "mse" else np.mean(np.abs(e)))


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
    """Train encoder + head end to end; keep the epoch with the best validation score.

    ``hooks`` (:class:`latentdiff.hooks.TrainHook`) are the DIR methods acting in this training;
    ``bins`` are the label bins they count in (the data set's evaluation bins). Weighted losses
    are ``mean(w_i l_i)`` over the batch with mean-one weights, as the DIR reference computes them.

    ``checkpoint``: a safetensors file where the training state is kept after every epoch
    (model, optimiser, learning-rate step, best epoch so far, batch-order and dropout RNGs, the
    hooks' state), stamped with ``checkpoint_key``. A later call with the same inputs and key
    continues after the last saved epoch and ends bit-identical to an uninterrupted run (CPU).
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
    rng = np.random.default_rng(random_state)
    groups = [{"params": list(model.parameters())}]
    for h in hooks:
        groups += h.param_groups()
    opt = torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(config.lr_milestones), gamma=0.1)
    y_lab = torch.as_tensor(y_train, dtype=torch.float32)
    yt = model.to_standard(y_lab)
    w = None if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32)
    if w is not None and w.numel() != y_train.size:
        raise ValueError(f"{w.numel()} sample weights for {y_train.size} training samples")
    best = _BestEpoch(model, config.patience)
    history: list[dict] = []
    with torch.random.fork_rng(devices=[]):  # dropout noise from random_state, caller's RNG kept
        torch.manual_seed(int(random_state))
        state = _EpochState(model, opt, sched, best, history, rng, hooks)
        start, stopped = state.resume(checkpoint, checkpoint_key)
        bar = tqdm(
            range(start, config.epochs if not stopped else start),
            initial=start,
            total=config.epochs,
            desc=desc,
            disable=not progress,
            leave=False,
        )
        for epoch in bar:
            model.train()
            perm = rng.permutation(y_train.size)
            total = 0.0
            for s in range(0, perm.size, config.batch_size):
                b = perm[s : s + config.batch_size]
                bt = torch.as_tensor(b)
                inputs = _batch(train_inputs, b)
                z = model.features(*inputs)
                for h in hooks:
                    z = h.calibrate(z, y_lab[bt], epoch)
                pred = model.head(z).squeeze(-1)
                wb = None if w is None else w[bt]
                loss = None
                for h in hooks:
                    loss = h.loss(pred, yt[bt], wb) if loss is None else loss
                if loss is None:
                    loss = _stage1_loss(config.loss, pred, yt[bt], wb)
                step = Step(model, inputs, z, pred, yt[bt], y_lab[bt], epoch)
                for h in hooks:
                    p = h.penalty(step)
                    if p is not None:
                        loss = loss + p
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                opt.step()
                total += loss.item() * b.size
            sched.step()
            for h in hooks:
                h.end_epoch(model, train_inputs, y_train, epoch)
            val = _score(config.select_metric, y_val, predict(model, val_inputs))
            key = f"val_{config.select_metric}"
            history.append({"epoch": epoch, "train_loss": total / perm.size, key: val})
            bar.set_postfix(val=f"{val:.4g}")
            stop = best.update(val, epoch)
            if checkpoint is not None:
                state.save(checkpoint, checkpoint_key, epoch + 1, stop)
            if stop:
                break
    best.restore()
    model.eval()
    return TrainResult(best.epoch, best.val, history)


@dataclass
class _EpochState:
    """What stage-1 training carries from one epoch to the next, checkpointed and restored
    exactly (see :func:`fit_model`)."""

    model: nn.Module
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    best: _BestEpoch
    history: list
    rng: np.random.Generator
    hooks: list

    def save(self, path: Path, key: str, epochs_done: int, stopped: bool) -> None:
        state = {
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "best_state": self.best.state if self.best.state is not None else {},
            "rng": torch.get_rng_state(),
            "hooks": [h.state_dict() for h in self.hooks],
        }
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
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])  # restores each group's learning rate too
        self.sched.last_epoch = meta["sched_last_epoch"]  # its milestones count from here
        self.best.state = state["best_state"] or None
        self.best.val = np.inf if meta["best_val"] is None else meta["best_val"]
        self.best.epoch = meta["best_epoch"]
        self.history[:] = meta["history"]
        self.rng.bit_generator.state = meta["numpy_rng"]
        torch.set_rng_state(state["rng"])
        for h, s in zip(self.hooks, state["hooks"], strict=True):
            h.load_state_dict(s)
        return int(meta["epochs_done"]), bool(meta["stopped"])


def _stage1_loss(kind: str, pred: torch.Tensor, target: torch.Tensor, weight):
    """Plain or weighted loss; weighted: ``mean(w_i l_i)`` with mean-one weights (DIR reference)."""
    per = (pred - target) ** 2 if kind == "mse" else (pred - target).abs()
    return per.mean() if weight is None else (per * weight).mean()


# --- stage 7: the head on real + synthetic features --------------------------------------------


@dataclass
class HeadConfig:
    """Retraining of the linear head on real + synthetic features (stage 7, Fig. 2).

    The paper names a mixing schedule r(t) but does not define it. Here r(t) is the fraction of
    synthetic samples among those seen in epoch t:

    * ``natural``: every real and every accepted synthetic sample once per epoch
      (r = N_syn / (N_real + N_syn) throughout);
    * ``constant``: r(t) = ``mix_ratio``;
    * ``linear``: r(t) rises from 0 to ``mix_ratio`` over the epochs (a curriculum).

    ``synthetic_weight`` multiplies the loss of synthetic samples. ``warm_start`` starts from the
    vanilla head instead of a fresh one.
    """

    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=60, patience=15))
    mix_schedule: Literal["natural", "constant", "linear"] = "natural"
    mix_ratio: float = 0.2
    synthetic_weight: float = 1.0
    warm_start: bool = True

    def __post_init__(self):
        if isinstance(self.train, dict):
            self.train = TrainConfig(**self.train)
        if self.mix_schedule not in ("natural", "constant", "linear"):
            raise ValueError(
                f"mix_schedule must be natural, constant or linear, got {self.mix_schedule!r}"
            )
        if not 0 <= self.mix_ratio < 1:
            raise ValueError(f"mix_ratio must be in [0, 1), got {self.mix_ratio!r}")
        if not self.synthetic_weight >= 0:
            raise ValueError(f"synthetic_weight must be >= 0, got {self.synthetic_weight!r}")

    def ratio(self, epoch: int) -> float | None:
        """r(t); None for ``natural``."""
        if self.mix_schedule == "natural":
            return None
        if self.mix_schedule == "constant":
            return self.mix_ratio
        n = max(self.train.epochs - 1, 1)
        return self.mix_ratio * min(epoch / n, 1.0)

    def to_dict(self) -> dict:
        return asdict(self)


def fit_head(
    model: RegressionModel,
    Z_real,
    y_real,
    Z_syn,
    y_syn,
    Z_val,
    y_val,
    config: HeadConfig,
    random_state: int = 0,
    progress: bool = True,
    hooks=(),
    bins: Bins | None = None,
) -> TrainResult:
    """Retrain ``model.head`` on real + synthetic features; the encoder is untouched.

    Of the ``hooks``, those with ``head_stage`` act here: their sample weights weight the real
    samples and, looked up at the synthetic labels, the synthetic ones (times
    ``synthetic_weight``); their loss replaces the plain one.
    """
    hooks = [h for h in check_hooks(hooks) if h.head_stage]
    rng = np.random.default_rng(random_state)
    if not config.warm_start:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(random_state))
            model.head.reset_parameters()
    head = model.head
    Zr = torch.as_tensor(np.asarray(Z_real), dtype=torch.float32)
    Zs = torch.as_tensor(np.asarray(Z_syn, dtype=np.float32).reshape(-1, Zr.shape[1]))
    yr = model.to_standard(torch.as_tensor(np.asarray(y_real), dtype=torch.float32))
    ys = model.to_standard(torch.as_tensor(np.asarray(y_syn), dtype=torch.float32).reshape(-1))
    Zv = torch.as_tensor(np.asarray(Z_val), dtype=torch.float32)
    cfg = config.train
    w_real = torch.ones(Zr.shape[0])
    w_syn = torch.full((Zs.shape[0],), float(config.synthetic_weight))
    if hooks:
        y_real_np = np.asarray(y_real, dtype=np.float64).reshape(-1)
        bins = bins if bins is not None else Bins.fit(y_real_np, n_bins=100)
        for h in hooks:
            h.setup(model, y_real_np, bins)
            wr = h.sample_weights(y_real_np)
            if wr is not None:
                w_real = w_real * torch.as_tensor(wr, dtype=torch.float32)
                if Zs.shape[0]:
                    ws = h.sample_weights(np.asarray(y_syn, dtype=np.float64).reshape(-1))
                    w_syn = w_syn * torch.as_tensor(ws, dtype=torch.float32)
    groups = [{"params": list(head.parameters())}]
    for h in hooks:
        groups += h.param_groups()
    opt = torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(cfg.lr_milestones), gamma=0.1)
    n_real, n_syn = Zr.shape[0], Zs.shape[0]
    best = _BestEpoch(head, cfg.patience)
    history = []

    def val_score():
        with torch.no_grad():
            return _score(cfg.select_metric, y_val, model.to_labels(head(Zv).squeeze(-1)).numpy())

    for epoch in tqdm(range(cfg.epochs), desc="head", disable=not progress, leave=False):
        r = config.ratio(epoch)
        if r is None or n_syn == 0:
            k = n_syn
            syn_idx = np.arange(n_syn)
        else:
            k = int(round(r / (1 - r) * n_real)) if r > 0 else 0
            syn_idx = rng.choice(n_syn, size=k, replace=k > n_syn)
        Z = torch.cat([Zr, Zs[syn_idx]])
        y = torch.cat([yr, ys[syn_idx]])
        w = torch.cat([w_real, w_syn[syn_idx]])
        perm = torch.as_tensor(rng.permutation(Z.shape[0]))
        head.train()
        for s in range(0, perm.numel(), cfg.batch_size):
            b = perm[s : s + cfg.batch_size]
            pred_b, wb = head(Z[b]).squeeze(-1), w[b]
            loss = None
            for h in hooks:  # the batch's weights at mean one: the same weighting as _loss
                loss = (
                    h.loss(pred_b, y[b], wb / wb.mean().clamp_min(1e-12)) if loss is None else loss
                )
            if loss is None:
                loss = _loss(cfg.loss, pred_b, y[b], wb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        val = val_score()
        history.append(
            {
                "epoch": epoch,
                "synthetic_fraction": k / (n_real + k),
                f"val_{cfg.select_metric}": val,
            }
        )
        if best.update(val, epoch):
            break
    best.restore()
    model.eval()
    return TrainResult(best.epoch, best.val, history)


def predict_from_features(model: RegressionModel, Z) -> np.ndarray:
    """h_phi(z) in label units (stage 8 uses f_psi then h_phi; this is the h_phi half)."""
    with torch.no_grad():
        out = model.head(torch.as_tensor(np.asarray(Z), dtype=torch.float32)).squeeze(-1)
        return model.to_labels(out).double().numpy()
