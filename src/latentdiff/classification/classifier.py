"""A classifier for new rows: :class:`LDMLRClassifier`, LDMLR's three stages (seed 002) on a
table as a scikit-learn classifier, and its saved form (no pickle), the classification sibling
of :class:`latentdiff.estimator.LatentDiffRegressor`.

``fit(X, y)`` reads the classes as they are (integers or strings; :func:`.protocol.encode_classes`
refuses missing labels, non-whole floats and a single class), carves a class-balanced validation
split from the rows (per class ``min(n_c // 3, 30)`` rows, seeded; a class of fewer than 3 rows
gives none), encodes the columns as the regression mode does
(:class:`latentdiff.data.tabular.TableEncoding`, fitted on the training rows), trains an MLP
encoder and a linear head with cross-entropy (stage 1, the epoch of best validation accuracy
kept, :func:`.model.train_ce`), and for ``ldmlr`` fits the class-conditional feature diffusion on
the encoded training features and fine-tunes the head on eq. 13 with the generated ones (stages
2-3: :class:`latentdiff.samplers.LDMLRSampler`, :func:`.ldmlr.fine_tune_head`). ``label-shift``
subtracts the log training class priors from the logits (post-hoc logit adjustment,
:func:`.methods.logit_adjust`).

``save(dir)`` writes ``model.safetensors`` (the encoder and head weights) and ``model.json``
(:data:`FORMAT`, the column schema, the table encoding, the class names and their type, the
training class counts the priors come from, the encoder's shape, the method and every setting,
the validation split's rule and scores); :meth:`LDMLRClassifier.load` rebuilds the network and
predicts exactly as the saved estimator did. :func:`latentdiff.estimator.load_model` loads a
saved model of either task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .ldmlr import FINE_TUNE_LR, GAMMA, TARGETS
from .longtail import CLASS_THRESHOLDS, REGIONS, class_regions

#: ``model.json``'s ``format`` for a classifier and its version
FORMAT = "latentdiff-classifier"
FORMAT_VERSION = 1
#: the methods a classifier can be trained with: one network each (seed 002, Table 1; cb)
CLASSIFIER_METHODS: tuple[str, ...] = ("ce", "label-shift", "ldmlr", "label-shift+ldmlr", "cb")
#: the validation split: per class min(n_c // VAL_DIVISOR, VAL_CAP) rows
VAL_DIVISOR, VAL_CAP = 3, 30
#: the MLP encoder's hidden widths (:func:`.model.mlp_encoder`)
HIDDEN = (128, 128)


def _positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")


def _positive(name, v, zero_ok=False):
    ok = not isinstance(v, bool) and isinstance(v, int | float | np.number) and np.isfinite(v)
    if not ok or v < 0 or (v == 0 and not zero_ok):
        raise ValueError(f"{name} must be a finite number {'>=' if zero_ok else '>'} 0, got {v!r}")


class LDMLRClassifier(ClassifierMixin, BaseEstimator):
    """LDMLR (seed 002) trained on a table, as a scikit-learn classifier.

    Parameters
    ----------
    method : {"ldmlr", "ce", "label-shift", "label-shift+ldmlr", "cb"}, default "ldmlr"
        ``ce``: stage 1 alone; ``ldmlr``: CE + LDMLR (stages 2-3); ``label-shift``: logits
        minus the log training class priors (of ``ce`` or, in ``label-shift+ldmlr``, of the
        LDMLR head); ``cb``: stage 1 with Cui et al.'s class-balanced loss weights.
    target : {"tail", "all", "many", "medium", "few"}, default "tail"
        The classes LDMLR generates features for (seed 002, Table 4), by their training rows
        (many > 100, few < 20); ``tail`` is the rarest region any class is in (few, else
        medium), the default because it won at every ratio on MNIST-LT (docs/benchmarks.md,
        issue 12) as "few" did in seed 002's Table 4; a region with no class is refused
        before training.
    ratio : float, default 0.2
        Generated features as a fraction of the training rows (Figure 2).
    gamma, fine_tune_lr, fine_tune_epochs
        Stage 3: eq. 13's gamma (0.05), Adam's learning rate (5e-4) and passes over the rows.
    diffusion : dict, optional
        :class:`latentdiff.settings.DiffusionConfig` settings in place of LDMLR's
        (:func:`latentdiff.samplers.class_conditional.ldmlr_diffusion`).
    epochs, lr, batch_size
        Stage 1: cross-entropy epochs (the best on validation kept), Adam's rate, batch size.
    feature_dim, dropout
        The MLP encoder: feature width (the diffusion model's dimension) and dropout.
    missing : {"impute", "refuse"}
        Missing feature values: imputed from the training rows or refused.
    random_state : int
        Seeds the validation split, stage 1, the diffusion model, its samples and stage 3.
    progress : bool
        Progress bar of the diffusion training.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted, as given (integers or strings; whole-number floats are read as
        integers).
    model_ : Classifier
        The trained network (encoder then head).
    class_counts_ : ndarray of int
        Training rows per class (the priors of ``label-shift``); ``class_regions_`` their regions.
    validation_ : dict
        Accuracy and macro-F1 on the validation split, per region (all, many, medium, few).
    info_ : dict
        What training reported: stage 1's best epoch, the generated features per class.
    """

    def __init__(
        self,
        method: str = "ldmlr",
        target: str = "tail",
        ratio: float = 0.2,
        gamma: float = GAMMA,
        fine_tune_lr: float = FINE_TUNE_LR,
        fine_tune_epochs: int = 20,
        diffusion: dict | None = None,
        epochs: int = 60,
        lr: float = 1e-3,
        batch_size: int = 128,
        feature_dim: int = 64,
        dropout: float = 0.0,
        missing: str = "impute",
        random_state: int = 0,
        progress: bool = False,
    ):
        self.method = method
        self.target = target
        self.ratio = ratio
        self.gamma = gamma
        self.fine_tune_lr = fine_tune_lr
        self.fine_tune_epochs = fine_tune_epochs
        self.diffusion = diffusion
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.feature_dim = feature_dim
        self.dropout = dropout
        self.missing = missing
        self.random_state = random_state
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "impute"
        tags.input_tags.string = tags.input_tags.categorical = True
        return tags

    # --- parameters ---------------------------------------------------------------------------
    def _check_params(self) -> dict:
        """Every parameter checked before any work; returns the diffusion settings."""
        from ..data.tabular import MISSING_RULES
        from ..samplers.class_conditional import ldmlr_diffusion

        if self.method not in CLASSIFIER_METHODS:
            raise ValueError(f"method must be one of {', '.join(CLASSIFIER_METHODS)}, got "
                             f"{self.method!r}")  # fmt: skip
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        _positive("ratio", self.ratio, zero_ok=True)
        _positive("gamma", self.gamma, zero_ok=True)
        for name in ("fine_tune_lr", "lr"):
            _positive(name, getattr(self, name))
        for name in ("fine_tune_epochs", "epochs", "batch_size", "feature_dim"):
            _positive_int(name, getattr(self, name))
        d = self.dropout
        if isinstance(d, bool) or not isinstance(d, int | float | np.number) or not 0 <= d < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {d!r}")
        if self.missing not in MISSING_RULES:
            raise ValueError(f"missing = {self.missing!r} is not allowed; one of {MISSING_RULES}")
        rs = self.random_state
        if isinstance(rs, bool) or not isinstance(rs, int | np.integer) or rs < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {rs!r}")
        if not isinstance(self.progress, bool | np.bool_):
            raise ValueError(f"progress must be True or False, got {self.progress!r}")
        return ldmlr_diffusion(self.diffusion)

    @property
    def _uses_ldmlr(self) -> bool:
        return "ldmlr" in self.method

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, X, y):
        """Train on the rows of ``X`` (a DataFrame with numeric and text columns, or a 2-D
        array) and their classes ``y``; a class-balanced validation split is carved from them."""
        import torch

        from ..data.tabular import _encode_splits
        from ..estimator import _frame, _schema
        from ..samplers.class_conditional import LDMLRSampler
        from .ldmlr import fine_tune_head, generation_counts
        from .longtail import encode_classes
        from .methods import class_balanced_weights
        from .model import build_classifier, features, train_ce

        diffusion = self._check_params()
        frame, self._input_kind = _frame(X)
        if frame.shape[1] == 0:
            raise ValueError(f"X has 0 feature(s) (shape={frame.shape}) while a minimum of 1 is "
                             "required.")  # fmt: skip
        if y is None:
            raise ValueError("LDMLRClassifier requires y to be passed, but the target y is None")
        if frame.shape[0] < 2:
            raise ValueError(f"need at least 2 samples to fit, got n_samples = {frame.shape[0]}")
        self.target_ = str(y.name) if isinstance(y, pd.Series) and y.name is not None else None
        y = y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            import warnings

            from sklearn.exceptions import DataConversionWarning

            warnings.warn("A column-vector y was passed when a 1d array was expected; it is read "
                          "as one label per row", DataConversionWarning, stacklevel=2)  # fmt: skip
        classes, codes = encode_classes(y)  # missing, non-whole floats, one class: refused
        if codes.size != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {codes.size} labels")
        tr, va = balanced_validation(codes, classes.size, int(self.random_state))
        if va.size == 0:
            raise ValueError(f"{codes.size} rows are too few to carve a validation split: it takes "
                             f"a class of at least {VAL_DIVISOR} rows")  # fmt: skip
        counts = np.bincount(codes[tr], minlength=classes.size)
        regions = class_regions(counts, CLASS_THRESHOLDS)
        if self._uses_ldmlr:  # a target region with no class: refused before training
            generation_counts(counts, regions, self.target, float(self.ratio))
        enc, parts, imputed = _encode_splits(frame, codes.astype(np.float64), [tr, va, va],
                                             self.missing)  # fmt: skip
        X_tr, X_va = parts[0].X, parts[1].X
        y_tr, y_va = codes[tr], codes[va]
        seed = int(self.random_state)
        torch.manual_seed(seed)  # the stage-1 weights
        model = build_classifier("mlp", X_tr, classes.size, int(self.feature_dim),
                                 float(self.dropout))  # fmt: skip
        weight = class_balanced_weights(counts) if self.method == "cb" else None
        stage1 = train_ce(model, X_tr, y_tr, X_va, y_va, epochs=int(self.epochs), lr=float(self.lr),
                          batch_size=int(self.batch_size), weight=weight,
                          random_state=seed)  # fmt: skip
        info: dict = {"stage1": {"best_epoch": stage1.best_epoch,
                                 "val_accuracy": stage1.val_accuracy}}  # fmt: skip
        if self._uses_ldmlr:
            Z = features(model, X_tr)  # stage 1's encoded features D_z
            sampler = LDMLRSampler(self.target, float(self.ratio), CLASS_THRESHOLDS, diffusion,
                                   random_state=seed, progress=bool(self.progress))  # fmt: skip
            Z_res, y_res = sampler.fit_resample(Z, y_tr)
            Z_gen, y_gen = Z_res[len(Z) :], y_res[len(Z) :]  # D_z_hat (eq. 12)
            hist = fine_tune_head(model.head, Z, y_tr, Z_gen, y_gen, gamma=float(self.gamma),
                                  lr=float(self.fine_tune_lr), epochs=int(self.fine_tune_epochs),
                                  batch_size=int(self.batch_size), random_state=seed)  # fmt: skip
            per_class = np.bincount(y_gen, minlength=classes.size)
            info["ldmlr"] = {
                "generated_per_class": per_class.tolist(),
                "diffusion_steps": None if sampler.generator_ is None
                else int(sampler.generator_.n_steps_),
                "fine_tune_loss": hist[-1],
            }  # fmt: skip
        self.model_ = model.eval()
        self.classes_ = np.asarray([_plain(c) for c in classes])  # what load() reads back
        self.class_counts_ = counts
        self.class_regions_ = regions
        self.encoding_ = enc
        self.columns_ = _schema(frame, enc)
        self.n_features_in_ = frame.shape[1]
        if self._input_kind == "frame":
            self.feature_names_in_ = np.asarray(list(frame.columns), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.info_ = info
        self.diffusion_ = diffusion
        self.imputed_ = {c: {p: n for p, n in d.items() if p != "test"} for c, d in imputed.items()}
        self.split_ = {"n_train": int(tr.size), "n_val": int(va.size),
                       "rule": f"class-balanced val, min(n_c // {VAL_DIVISOR}, {VAL_CAP}) per "
                       "class; the rest trains", "seed": seed}  # fmt: skip
        self._score_validation(X_va, y_va)
        return self

    def _score_validation(self, X_va, y_va) -> None:
        from .scores import classification_metrics

        pred = self._logits_of(X_va).argmax(1)  # codes
        self.validation_ = classification_metrics(y_va, pred, self.class_regions_)
        self.validation_counts_ = {
            "all": int(y_va.size),
            **{r: int(np.isin(y_va, np.flatnonzero(self.class_regions_ == r)).sum())
               for r in REGIONS},
        }  # fmt: skip

    # --- predicting ---------------------------------------------------------------------------
    def _logits_of(self, X_enc: np.ndarray) -> np.ndarray:
        """The network's logits for encoded rows, label-shift adjusted when the method says so."""
        from .methods import logit_adjust
        from .model import logits

        out = logits(self.model_, np.asarray(X_enc, dtype=np.float32))
        if self.method.startswith("label-shift"):
            out = logit_adjust(out, self.class_counts_)
        return out

    def _encoded(self, X) -> np.ndarray:
        from ..estimator import encode_rows

        check_is_fitted(self, "model_")
        return encode_rows(X, self.columns_, self._input_kind, self.encoding_, type(self).__name__)

    def _all_logits(self, X) -> np.ndarray:
        Z = self._encoded(X)
        if Z.shape[0] == 0:
            return np.empty((0, self.classes_.size))
        return self._logits_of(Z).astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        """The (adjusted) logits, (n_rows, n_classes) float64, columns in ``classes_`` order;
        with two classes scikit-learn's (n_rows,) score of ``classes_[1]``: the logit
        difference."""
        out = self._all_logits(X)
        return out[:, 1] - out[:, 0] if self.classes_.size == 2 else out

    def predict_proba(self, X) -> np.ndarray:
        """Softmax of the (adjusted) logits: class probabilities in ``classes_`` order."""
        from scipy.special import softmax

        return softmax(self._all_logits(X), axis=1)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, as a label of ``classes_``."""
        best = self._all_logits(X).argmax(1)
        return self.classes_[best]

    # --- the saved model ----------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write ``model.safetensors`` and ``model.json`` into the folder ``path`` (made if
        needed; a saved model there is replaced); returns the folder."""
        from .. import __version__
        from ..estimator import MODEL_JSON, MODEL_WEIGHTS, _jsonable
        from ..io import save_tensors, write_json

        check_is_fitted(self, "model_")
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{path} is a file; a model is saved into a folder")
        state = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "latentdiff_version": __version__,
            "task": "classification",
            "input": self._input_kind,
            "columns": self.columns_,
            "target": self.target_,
            "encoding": self.encoding_.to_dict(),
            "classes": self.classes_.tolist(),
            "class_dtype": self.classes_.dtype.kind,
            "class_counts": self.class_counts_.tolist(),
            "class_regions": self.class_regions_.tolist(),
            "thresholds": list(CLASS_THRESHOLDS),
            "encoder": {
                "name": "mlp",
                "in_dim": len(self.encoding_.feature_names),
                "hidden": list(HIDDEN),
                "feature_dim": int(self.feature_dim),
                "dropout": float(self.dropout),
            },
            "method": self.method,
            "params": _jsonable(self.get_params(deep=False)),
            "diffusion": _jsonable(self.diffusion_),
            "validation": self.validation_,
            "validation_counts": self.validation_counts_,
            "split": self.split_,
            "imputed": self.imputed_,
            "info": _jsonable(self.info_),
        }
        path.mkdir(parents=True, exist_ok=True)
        save_tensors(
            path / MODEL_WEIGHTS, state, {"format": FORMAT, "format_version": FORMAT_VERSION}
        )
        write_json(path / MODEL_JSON, meta)  # last: the folder is a model once this is there
        return path

    @classmethod
    def load(cls, path) -> LDMLRClassifier:
        """A fitted classifier from a folder written by :meth:`save`; anything else is refused
        with a ValueError naming the folder."""
        from ..data.tabular import TableEncoding
        from ..estimator import MODEL_WEIGHTS, read_model_json
        from ..io import load_tensors
        from .model import build_classifier

        path = Path(path)
        meta = read_model_json(path)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a saved latentdiff classifier")
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: classifier format version {meta.get('format_version')!r}; this "
                f"latentdiff reads version {FORMAT_VERSION}"
            )
        tensors, _ = load_tensors(path / MODEL_WEIGHTS)
        try:
            est = cls(**meta["params"])
            enc = meta["encoder"]
            if enc["name"] != "mlp" or list(enc["hidden"]) != list(HIDDEN):
                raise ValueError(f"encoder {enc['name']!r} {enc['hidden']}; this latentdiff "
                                 f"builds 'mlp' {list(HIDDEN)}")  # fmt: skip
            classes = np.asarray(meta["classes"])
            if classes.dtype.kind != meta["class_dtype"]:
                raise ValueError(f"classes read as dtype kind {classes.dtype.kind!r}, saved as "
                                 f"{meta['class_dtype']!r}")  # fmt: skip
            model = build_classifier("mlp", np.empty((0, int(enc["in_dim"])), np.float32),
                                     classes.size, int(enc["feature_dim"]),
                                     float(enc["dropout"]))  # fmt: skip
            model.load_state_dict(tensors, strict=True)
            est.encoding_ = TableEncoding.from_dict(meta["encoding"])
            est.class_counts_ = np.asarray(meta["class_counts"], dtype=np.int64)
            est.class_regions_ = np.asarray(meta["class_regions"], dtype=object)
            if est.class_counts_.size != classes.size or est.class_regions_.size != classes.size:
                raise ValueError("class counts and regions do not match the classes")
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            raise ValueError(
                f"{path}: the saved classifier is incomplete or inconsistent ({e})"
            ) from None
        est.model_ = model.eval()
        est.classes_ = classes
        est._input_kind = meta["input"]
        est.columns_ = meta["columns"]
        est.target_ = meta["target"]
        est.n_features_in_ = len(est.columns_)
        if est._input_kind == "frame":
            est.feature_names_in_ = np.asarray([c["name"] for c in est.columns_], dtype=object)
        est.diffusion_ = meta["diffusion"]
        est.info_ = meta["info"]
        est.validation_ = meta["validation"]
        est.validation_counts_ = meta["validation_counts"]
        est.split_ = meta["split"]
        est.imputed_ = meta["imputed"]
        return est

    def validation_report(self) -> str:
        """The validation scores of the fit (markdown), per region."""
        check_is_fitted(self, "model_")
        lines = [
            f"validation split: {self.split_['n_val']} rows ({self.split_['rule']}); training "
            f"rows: {self.split_['n_train']}",
            "",
            f"{self.method} on validation, per region:",
            "",
            "| region | n | accuracy | macro_f1 |",
            "|---|---|---|---|",
        ]
        for region, m in self.validation_.items():
            cells = ["-" if m[k] is None else f"{m[k]:.4g}" for k in ("accuracy", "macro_f1")]
            lines.append(f"| {region} | {self.validation_counts_[region]} | {' | '.join(cells)} |")
        if "ldmlr" in self.info_:
            gen = dict(zip(self.classes_.tolist(), self.info_["ldmlr"]["generated_per_class"],
                           strict=True))  # fmt: skip
            lines += ["", f"generated features per class: {gen}"]
        return "\n".join(lines)


def balanced_validation(codes: np.ndarray, n_classes: int, seed: int):
    """(training rows, validation rows), each sorted: per class a seeded permutation of its
    rows, the first ``min(n_c // 3, 30)`` to validation (classes in code order, one
    ``numpy.random.default_rng(seed)``)."""
    rng = np.random.default_rng(seed)
    val = []
    for k in range(n_classes):
        rows = rng.permutation(np.flatnonzero(codes == k))
        val.append(rows[: min(rows.size // VAL_DIVISOR, VAL_CAP)])
    va = np.sort(np.concatenate(val)).astype(np.int64)
    tr = np.setdiff1d(np.arange(codes.size), va)
    return tr, va


def _plain(value):
    return value.item() if hasattr(value, "item") else value
