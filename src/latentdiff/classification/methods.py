"""The classification methods of seed 002, Table 1, on one shared stage 1 per seed (so every
method of a run is compared on the same encoder: paired differences):

* ``ce``: the cross-entropy classifier of stage 1;
* ``label-shift``: its logits adjusted by the training class priors, logit_y - log pi_y (post-hoc
  logit adjustment, Menon et al., 2021, tau = 1; for a class-balanced test set this is the
  prior correction p_test(y|x) ~ p_train(y|x) / pi_y of Tian et al., 2020, seed 002's [40]);
* ``ldmlr``: stages 2-3 (a class-conditional diffusion on the stage-1 features, generated
  features for a target and ratio, the head fine-tuned on eq. 13);
* ``label-shift+ldmlr``: the LDMLR head's logits adjusted by the same training priors;
* ``ce-ft`` (a control, not in seed 002): the head fine-tuned as in stage 3 with no generated
  features (eq. 13 without its second term), to separate LDMLR's gain from the extra epochs;
* ``cb`` (the field's control): its own stage 1, cross-entropy weighted by the class-balanced
  weights of Cui et al. (2019), w_c ~ (1 - beta) / (1 - beta^n_c), beta = 0.999, sum_c w_c = C;
* ``crt`` (the field's control): classifier re-training (Kang et al., 2020): a fresh head on the
  frozen stage-1 features, trained on a class-balanced resample of them (each class equally
  likely per draw), Adam at 1e-3.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .diffusion import LDMLR_DIFFUSION, ClassFeatureDiffusion
from .ldmlr import FINE_TUNE_LR, GAMMA, fine_tune_head, generation_counts, generation_labels
from .metrics import classification_metrics, records
from .model import build_classifier, features, logits, train_ce
from .protocol import LTDataset

CLASS_METHODS: tuple[str, ...] = (
    "ce", "label-shift", "ldmlr", "label-shift+ldmlr", "ce-ft", "cb", "crt"
)  # fmt: skip


def class_balanced_weights(train_counts, beta: float = 0.999) -> np.ndarray:
    """w_c = (1 - beta) / (1 - beta^n_c) normalised to sum to C (Cui et al., 2019, eq. 5)."""
    n = np.asarray(train_counts, dtype=np.float64)
    w = (1.0 - beta) / (1.0 - np.power(beta, n))  # 1 / effective number E_n
    return w * n.size / w.sum()


def logit_adjust(logit: np.ndarray, train_counts, tau: float = 1.0) -> np.ndarray:
    """logit_y - tau log pi_y with pi the training class frequencies (Menon et al., 2021)."""
    counts = np.asarray(train_counts, dtype=np.float64)
    return logit - tau * np.log(counts / counts.sum())[None, :]


@dataclass
class LDMLRSettings:
    """Stages 2-3: what to generate (``target``, ``ratio``), which features train the head
    (``use``: ``both`` or ``generated`` only, seed 002 Table 5), eq. 13's ``gamma``, the
    fine-tuning learning rate and epochs, and the diffusion settings (DiffusionConfig names)."""

    target: str = "all"
    ratio: float = 0.2
    use: str = "both"
    gamma: float = GAMMA
    lr: float = FINE_TUNE_LR
    epochs: int = 20
    diffusion: dict = field(default_factory=lambda: dict(LDMLR_DIFFUSION, n_steps=3000))

    def __post_init__(self):
        if self.use not in ("both", "generated"):
            raise ValueError(f"use must be 'both' or 'generated', got {self.use!r}")


def run_classification(
    ds: LTDataset,
    methods=CLASS_METHODS,
    seed: int = 0,
    *,
    encoder: str = "cnn",
    epochs: int = 30,
    lr: float = 1e-3,
    ldmlr: LDMLRSettings | None = None,
) -> tuple[list[dict], dict]:
    """Train stage 1 once, score every method of ``methods`` on the test set; returns the
    records ``{dataset, method, seed, region, metric, value}`` and run details."""
    unknown = [m for m in methods if m not in CLASS_METHODS]
    if unknown:
        raise ValueError(f"unknown classification method(s) {unknown}; known: {CLASS_METHODS}")
    ldmlr = ldmlr or LDMLRSettings()
    seconds: dict[str, float] = {}  # wall seconds of each stage: stage1 and each method's own
    start = time.perf_counter()
    torch.manual_seed(seed)  # the stage-1 weights
    model = build_classifier(encoder, ds.train.X, ds.n_classes)
    stage1 = train_ce(model, ds.train.X, ds.train.y, ds.val.X, ds.val.y, epochs=epochs, lr=lr,
                      random_state=seed)  # fmt: skip
    counts, regions = ds.train_counts, ds.region_of_class
    test_logits = {"ce": logits(model, ds.test.X)}
    seconds["stage1"] = time.perf_counter() - start
    details: dict = {"stage1": {"best_epoch": stage1.best_epoch,
                                "val_accuracy": stage1.val_accuracy},
                     "seconds": seconds}  # fmt: skip
    if any("ldmlr" in m for m in methods):
        start = time.perf_counter()
        Z = features(model, ds.train.X)  # (N, m), stage 1's encoded features D_z
        gen = ClassFeatureDiffusion(ldmlr.diffusion, n_classes=ds.n_classes, random_state=seed,
                                    progress=False).fit(Z, ds.train.y)  # fmt: skip
        per_class = generation_counts(counts, regions, ldmlr.target, ldmlr.ratio)
        y_gen = generation_labels(per_class)
        Z_gen = gen.sample(y_gen, random_state=seed + 1)  # D_z_hat, eq. 12
        head = copy.deepcopy(model.head)
        if ldmlr.use == "both":
            hist = fine_tune_head(head, Z, ds.train.y, Z_gen, y_gen, gamma=ldmlr.gamma,
                                  lr=ldmlr.lr, epochs=ldmlr.epochs, random_state=seed)  # fmt: skip
        else:  # generated only: plain CE on D_z_hat
            hist = fine_tune_head(head, Z_gen, y_gen, Z_gen[:0], y_gen[:0], lr=ldmlr.lr,
                                  epochs=ldmlr.epochs, random_state=seed)  # fmt: skip
        Z_test = features(model, ds.test.X)
        with torch.no_grad():
            test_logits["ldmlr"] = head(torch.as_tensor(Z_test)).numpy()
        details["ldmlr"] = {
            "generated_per_class": per_class.tolist(),
            "diffusion_steps": gen.n_steps_,
            "fine_tune_loss": hist[-1],
        }
        seconds["ldmlr"] = time.perf_counter() - start
    if "ce-ft" in methods:
        start = time.perf_counter()
        head = copy.deepcopy(model.head)
        Z = features(model, ds.train.X)
        fine_tune_head(head, Z, ds.train.y, Z[:0], ds.train.y[:0], lr=ldmlr.lr,
                       epochs=ldmlr.epochs, random_state=seed)  # fmt: skip
        with torch.no_grad():
            test_logits["ce-ft"] = head(torch.as_tensor(features(model, ds.test.X))).numpy()
        seconds["ce-ft"] = time.perf_counter() - start
    if "cb" in methods:
        start = time.perf_counter()
        torch.manual_seed(seed)
        cb_model = build_classifier(encoder, ds.train.X, ds.n_classes)
        train_ce(cb_model, ds.train.X, ds.train.y, ds.val.X, ds.val.y, epochs=epochs, lr=lr,
                 weight=class_balanced_weights(counts), random_state=seed)  # fmt: skip
        test_logits["cb"] = logits(cb_model, ds.test.X)
        seconds["cb"] = time.perf_counter() - start
    if "crt" in methods:
        start = time.perf_counter()
        Z = features(model, ds.train.X)
        rng = np.random.default_rng(seed)
        p = 1.0 / counts[ds.train.y]
        rows_b = rng.choice(len(Z), size=len(Z), p=p / p.sum())  # class-balanced resample
        torch.manual_seed(seed)
        head = torch.nn.Linear(Z.shape[1], ds.n_classes)
        fine_tune_head(head, Z[rows_b], ds.train.y[rows_b], Z[:0], ds.train.y[:0], lr=1e-3,
                       epochs=ldmlr.epochs, random_state=seed)  # fmt: skip
        with torch.no_grad():
            test_logits["crt"] = head(torch.as_tensor(features(model, ds.test.X))).numpy()
        seconds["crt"] = time.perf_counter() - start
    rows = []
    for m in methods:
        base = "ldmlr" if "ldmlr" in m else (m if m in ("ce-ft", "cb", "crt") else "ce")
        out = test_logits[base]
        if m.startswith("label-shift"):
            out = logit_adjust(out, counts)
        scores = classification_metrics(ds.test.y, out.argmax(1), regions)
        rows += records(ds.name, m, seed, scores)
    return rows, details
