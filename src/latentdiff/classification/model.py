"""Stage 1 of LDMLR (seed 002, sec. 3.2): an encoder E and a linear classifier head G trained
with cross-entropy on the long-tailed training set; the features z = E(x) feed stages 2-3.

Encoders: ``cnn``, a small CNN for (N, H, W) image arrays (MNIST-LT; seed 002 uses a ResNet-32
on CIFAR, too slow for this CPU), and ``mlp`` for (N, d) feature vectors (tables, digits).
Training: Adam, the epoch with the best validation accuracy is kept (the validation set is
class-balanced, as the test set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SmallCNN(nn.Module):
    """Two conv-BN-ReLU-maxpool stages (16, 32 channels), flattened (32 x H/4 x W/4), a linear
    map to ``feature_dim`` with ReLU: (B, H, W) -> (B, feature_dim)."""

    def __init__(self, feature_dim: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.LazyLinear(feature_dim), nn.ReLU(),
            nn.Dropout(dropout),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x[:, None])  # (B, feature_dim)


def mlp_encoder(d_in: int, feature_dim: int = 64, dropout: float = 0.0) -> nn.Module:
    """(B, d_in) -> (B, feature_dim): two hidden ReLU layers of width 128."""
    return nn.Sequential(nn.Linear(d_in, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                         nn.Linear(128, feature_dim), nn.ReLU(), nn.Dropout(dropout))  # fmt: skip


class Classifier(nn.Module):
    """f(x) = G(E(x)): ``encoder`` then the linear ``head``."""

    def __init__(self, encoder: nn.Module, feature_dim: int, n_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(feature_dim, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))


def build_classifier(kind: str, X: np.ndarray, n_classes: int, feature_dim: int = 64,
                     dropout: float = 0.0) -> Classifier:  # fmt: skip
    """A fresh classifier for inputs like ``X``: ``cnn`` for (N, H, W), ``mlp`` for (N, d)."""
    if kind == "cnn":
        if X.ndim != 3:
            raise ValueError(f"the cnn encoder takes (N, H, W) images, got shape {X.shape}")
        enc = SmallCNN(feature_dim, dropout)
        with torch.no_grad():  # size the lazy linear layer from one image
            enc.eval()(torch.as_tensor(X[:1], dtype=torch.float32))
    elif kind == "mlp":
        if X.ndim != 2:
            raise ValueError(f"the mlp encoder takes (N, d) vectors, got shape {X.shape}")
        enc = mlp_encoder(X.shape[1], feature_dim, dropout)
    else:
        raise ValueError(f"unknown encoder {kind!r}; known: cnn, mlp")
    return Classifier(enc, feature_dim, n_classes)


@dataclass
class StageOne:
    """What stage 1 returns: the trained classifier, the epoch kept and its validation
    accuracy, the training loss per epoch."""

    model: Classifier
    best_epoch: int
    val_accuracy: float
    losses: list


def _batched(fn, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    out = []
    with torch.no_grad():
        for s in range(0, len(X), batch_size):
            out.append(fn(torch.as_tensor(X[s : s + batch_size], dtype=torch.float32)))
    return torch.cat(out).numpy()


def logits(model: Classifier, X: np.ndarray) -> np.ndarray:
    model.eval()
    return _batched(model, X)


def features(model: Classifier, X: np.ndarray) -> np.ndarray:
    """z = E(x) (N, feature_dim) float32."""
    model.eval()
    return _batched(model.encoder, X)


def train_ce(model: Classifier, X, y, X_val, y_val, *, epochs: int = 30, lr: float = 1e-3,
             batch_size: int = 128, weight=None, random_state: int = 0) -> StageOne:  # fmt: skip
    """Cross-entropy training of encoder and head (``weight``: per-class loss weights, None for
    plain CE); keeps the weights of the epoch with the best validation accuracy."""
    torch.manual_seed(random_state)
    gen = torch.Generator().manual_seed(random_state)
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
    w = None if weight is None else torch.as_tensor(weight, dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    best, best_state, best_epoch, losses = -1.0, None, 0, []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(Xt), generator=gen)
        total = 0.0
        for s in range(0, len(Xt), batch_size):
            idx = order[s : s + batch_size]
            if len(idx) < 2:  # batch norm needs two rows
                continue
            loss = F.cross_entropy(model(Xt[idx]), yt[idx], weight=w)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(Xt))
        acc = float((logits(model, X_val).argmax(1) == np.asarray(y_val)).mean())
        if acc > best:
            best, best_epoch = acc, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    return StageOne(model, best_epoch, best, losses)
