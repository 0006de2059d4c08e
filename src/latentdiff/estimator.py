"""A model for new rows: :class:`LatentDiffRegressor`, a scikit-learn regressor that trains a DIR
method on a table and predicts new rows of it, and its saved form (no pickle).

``fit(X, y)`` encodes the columns (:class:`latentdiff.data.tabular.TableEncoding`: numbers
standardised, text one-hot, missing values imputed from the training rows or refused), carves a
label-balanced validation split from the rows (:func:`latentdiff.data.tabular.fit_dataset`),
trains the method through the registry (:func:`latentdiff.methods.get_method`) with the tabular
MLP encoder, and keeps the trained network (``MethodOutput.model``). ``predict(X)`` encodes new
rows the same way and runs that network.

``save(dir)`` writes two files, atomically: ``model.safetensors`` (the network's state dict:
encoder, head, label scaler) and ``model.json`` (:data:`FORMAT`, the column schema, the table
encoding with its imputation values, the encoder's name, options and input width, the label
scaler, the method, the settings and what the method reported). ``LatentDiffRegressor.load(dir)``
rebuilds the network from them and predicts exactly as the saved estimator did.
"""

from __future__ import annotations

import json
import tempfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

#: ``model.json``'s ``format`` (what :meth:`LatentDiffRegressor.load` reads) and its version
FORMAT = "latentdiff-regressor"
FORMAT_VERSION = 1
MODEL_JSON = "model.json"
MODEL_WEIGHTS = "model.safetensors"
#: the method a regressor trains unless told otherwise
DEFAULT_METHOD = "latentdiff-tuned"
#: the encoder of every fitted table (the paper's tabular MLP)
ENCODER = "mlp"
MISSING_RULES = ("impute", "refuse")


class LatentDiffRegressor(RegressorMixin, BaseEstimator):
    """A DIR method trained on a table, as a scikit-learn regressor.

    Parameters
    ----------
    method : str
        A method of :data:`latentdiff.METHODS` or a ``+`` combination (``latentdiff``,
        ``vanilla``, ``lds``, ``latentdiff+lds``, ...); default ``latentdiff-tuned``.
    method_options : dict, optional
        Options per method component, e.g. ``{"lds": {"kernel": "laplace"}}``.
    train, sampler, head : settings or dict, optional
        :class:`~latentdiff.settings.TrainConfig` (default: the CSV preset, 100 epochs, early
        stopping after 15), :class:`~latentdiff.settings.SamplerConfig`,
        :class:`~latentdiff.settings.HeadConfig` (defaults when the method uses them; refused
        when it does not).
    encoder_options : dict, optional
        Keyword arguments of the MLP encoder (``hidden_dims``, ``dropout``).
    eval_bins : int, optional
        Equal-width label bins of the validation split and the shot regions (default 20).
    missing : {"impute", "refuse"}
        Missing feature values: imputed from the training rows (median; text: a ``<missing>``
        level) or refused.
    random_state : int
        Seed of the validation split, the initialisation, batch order and generation.
    progress : bool
        Progress bars.
    work_dir : str or Path, optional
        Where training keeps its checkpoints (a sub-folder per data and settings, so that a
        killed fit continues and a repeated one loads its networks); None: a temporary folder,
        removed after fitting.
    device : {"cpu", "cuda", "cuda:N"}
        Where fitting runs, every stage (:mod:`latentdiff.device`); CUDA asked for and absent
        is refused before any work. ``predict`` runs where the model is: there after ``fit``,
        on the CPU after :meth:`load`.

    Attributes
    ----------
    model_ : RegressionModel
        The trained network (encoder then head).
    encoding_ : TableEncoding
        The column encoding fitted on the training rows.
    info_ : dict
        What the method reported (for ``latentdiff-tuned``, its validation table of candidates).
    validation_ : dict
        Metrics of the fitted model on the validation split, per region (all, many, medium,
        few).
    imputed_ : dict
        Missing values imputed per column (training and validation rows).
    target_ : str or None
        The name of ``y`` when it was a named Series (a saved model's target column).
    """

    def __init__(
        self,
        method: str = DEFAULT_METHOD,
        method_options: dict | None = None,
        train=None,
        sampler=None,
        head=None,
        encoder_options: dict | None = None,
        eval_bins: int | None = None,
        missing: str = "impute",
        random_state: int = 0,
        progress: bool = False,
        work_dir=None,
        device: str = "cpu",
    ):
        self.method = method
        self.method_options = method_options
        self.train = train
        self.sampler = sampler
        self.head = head
        self.encoder_options = encoder_options
        self.eval_bins = eval_bins
        self.missing = missing
        self.random_state = random_state
        self.progress = progress
        self.work_dir = work_dir
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "impute"
        tags.input_tags.string = tags.input_tags.categorical = True
        return tags

    # --- parameters ---------------------------------------------------------------------------
    def _config(self):
        """The parameters checked together, as a :class:`~latentdiff.settings.BenchConfig`
        (method, options, settings and encoder options are checked as ``latentdiff bench``
        checks them); a ValueError names what is wrong."""
        from .settings import BenchConfig

        if not isinstance(self.method, str) or not self.method.strip():
            raise ValueError(f"method must be a method name, got {self.method!r}")
        if self.missing not in MISSING_RULES:
            raise ValueError(f"missing = {self.missing!r} is not allowed; one of {MISSING_RULES}")
        if self.eval_bins is not None and (
            isinstance(self.eval_bins, bool)
            or not isinstance(self.eval_bins, int | np.integer)
            or self.eval_bins < 1
        ):
            raise ValueError(
                f"eval_bins must be a positive integer or None, got {self.eval_bins!r}"
            )
        rs = self.random_state
        if isinstance(rs, bool) or not isinstance(rs, int | np.integer) or rs < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {rs!r}")
        if not isinstance(self.progress, bool | np.bool_):
            raise ValueError(f"progress must be True or False, got {self.progress!r}")
        for name in ("method_options", "encoder_options"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"{name} must be a dict or None, got {value!r}")
        given = {
            "methods": [self.method.strip()],
            "method_options": self.method_options,
            "seeds": [int(rs)],
            "encoder": ENCODER,
            "encoder_options": self.encoder_options,
            "progress": bool(self.progress),
            "device": self.device,
        }
        for part in ("train", "sampler", "head"):
            value = getattr(self, part)
            if value is not None:
                given[part] = value.to_dict() if hasattr(value, "to_dict") else value
        return BenchConfig.from_dict(given)

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, X, y):
        """Train the method on the rows of ``X`` (a DataFrame with numeric and text columns, or
        a 2-D array) and their labels ``y``; a validation split is carved from the rows."""
        from .data.tabular import fit_dataset
        from .device import resolve_device
        from .encoders import make_encoder
        from .generators.pogdiff import check_neighbours_before_training
        from .io import fingerprint
        from .methods import RunContext, get_method
        from .metrics import shot_metrics

        cfg = self._config()  # every parameter checked before any work
        resolve_device(cfg.device)  # CUDA asked for and absent: refused now
        method = get_method(cfg.methods[0], cfg.options_for(cfg.methods[0]))
        frame, self._input_kind = _frame(X)
        if frame.shape[1] == 0:
            raise ValueError(f"X has 0 feature(s) (shape={frame.shape}) while a minimum of 1 is "
                             "required.")  # fmt: skip
        if frame.shape[0] < 3:
            raise ValueError(f"n_samples = {frame.shape[0]}: too few rows to train and validate")
        self.target_ = None
        if isinstance(y, pd.Series) and y.name is not None:
            self.target_ = str(y.name)
        y = _labels(y, len(frame))
        dataset, encoding = fit_dataset(
            frame,
            y,
            name="fit",
            eval_n_bins=self.eval_bins,
            split_seed=int(self.random_state),
            missing=self.missing,
        )
        check_neighbours_before_training(dataset.train.y, cfg.sampler)  # before stage 1
        self.encoding_ = encoding
        self.columns_ = _schema(frame, encoding)
        self.n_features_in_ = frame.shape[1]
        if self._input_kind == "frame":
            self.feature_names_in_ = np.asarray(list(frame.columns), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        with ExitStack() as stack:
            if self.work_dir is None:
                root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="latentdiff-")))
            else:
                root = Path(self.work_dir)
            key = fingerprint(dataset.fingerprint(), cfg.comparable())
            ctx = RunContext(
                dataset,
                lambda: make_encoder(ENCODER, **cfg.encoder_options),
                cfg.train,
                int(self.random_state),
                sampler=cfg.sampler,
                head=cfg.head,
                progress=cfg.progress,
                checkpoints=root / f"fit-{key[:16]}",
                criterion=cfg.criterion,
                device=cfg.device,
            )
            output = method.run(ctx)
        if output.model is None:
            raise ValueError(f"method {cfg.methods[0]!r} has no single network to predict with")
        val = output.predictions["val"]
        if not np.all(np.isfinite(val)):
            raise ValueError("validation predictions are NaN or inf: training diverged "
                             "(try a smaller learning rate)")  # fmt: skip
        self.model_ = output.model.eval()
        self.config_ = cfg
        self.info_ = output.info
        self.validation_ = shot_metrics(dataset.val.y, val, dataset.regions.of(dataset.val.y))
        self.validation_counts_ = _counts(dataset.regions.of(dataset.val.y))
        self.imputed_ = dataset.info.get("imputed", {})
        self.split_ = {"n_train": len(dataset.train), "n_val": len(dataset.val),
                       "rule": dataset.info["split_rule"]}  # fmt: skip
        return self

    # --- predicting ---------------------------------------------------------------------------
    def _encoded(self, X) -> np.ndarray:
        """The design matrix of new rows, or a ValueError naming a missing or extra column, a
        wrong type or an unseen category."""
        check_is_fitted(self, "model_")
        return encode_rows(X, self.columns_, self._input_kind, self.encoding_, type(self).__name__)

    def predict(self, X) -> np.ndarray:
        """Predictions in label units (float64), one per row of ``X``, in its order."""
        from .encoders.base import tensor_inputs
        from .training import predict

        Z = self._encoded(X)
        if Z.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        return predict(self.model_, tensor_inputs(Z)).astype(np.float64)

    # --- reports ------------------------------------------------------------------------------
    def validation_report(self) -> str:
        """The validation table of the fit (markdown): the fitted model per region and, when
        the method chose among candidates on validation, their scores."""
        check_is_fitted(self, "model_")
        lines = [
            f"validation split: {self.split_['n_val']} rows ({self.split_['rule']}); "
            f"training rows: {self.split_['n_train']}",
            "",
            f"{self.config_.methods[0]} on validation, per region:",
            "",
            "| region | n | mae | mse | r2 |",
            "|---|---|---|---|---|",
        ]
        for region, m in self.validation_.items():
            cells = [_fmt(m.get(k)) for k in ("mae", "mse", "r2")]
            lines.append(f"| {region} | {self.validation_counts_[region]} | {' | '.join(cells)} |")
        for title, rows in _candidate_tables(self.info_):
            # scalar columns only: auto's per-candidate "test" errors are, in a fit, the
            # validation rows again (a fit has no test split), and a dict is no table cell
            cols = [k for k in dict.fromkeys(k for r in rows for k in r)
                    if not any(isinstance(r.get(k), dict) for r in rows)]  # fmt: skip
            lines += ["", f"{title}:", "", "| " + " | ".join(cols) + " |",
                      "|" + "---|" * len(cols)]  # fmt: skip
            lines += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
        return "\n".join(lines)

    # --- the saved model ----------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write ``model.safetensors`` and ``model.json`` into the folder ``path`` (made if
        needed; a saved model there is replaced); returns the folder."""
        from . import __version__
        from .io import save_tensors, write_json

        check_is_fitted(self, "model_")
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"{path} is a file; a model is saved into a folder")
        state = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
        encoder = make_spec(self.config_.encoder_options, self.n_features_in_encoded_)
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "latentdiff_version": __version__,
            "input": self._input_kind,
            "columns": self.columns_,
            "target": self.target_,
            "encoding": self.encoding_.to_dict(),
            "encoder": {
                "name": ENCODER,
                "options": dict(self.config_.encoder_options),
                "in_dim": self.n_features_in_encoded_,
                "out_dim": encoder.out_dim,
                "config": _jsonable(encoder.config()),
            },
            "label_scaler": {
                "mean": float(self.model_.y_mean),
                "scale": float(self.model_.y_scale),
            },
            "method": self.config_.methods[0],
            "settings": self.config_.to_dict(),
            "params": _jsonable(self._json_params()),
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

    @property
    def n_features_in_encoded_(self) -> int:
        """Width of the encoded design matrix (the encoder's input)."""
        return len(self.encoding_.feature_names)

    def _json_params(self) -> dict:
        params = self.get_params(deep=False)
        for part in ("train", "sampler", "head"):
            if hasattr(params[part], "to_dict"):
                params[part] = params[part].to_dict()
        params["work_dir"] = None if params["work_dir"] is None else str(params["work_dir"])
        return params

    @classmethod
    def load(cls, path) -> LatentDiffRegressor:
        """A fitted estimator from a folder written by :meth:`save`; anything else is refused
        with a ValueError naming the folder."""
        from .data.tabular import TableEncoding
        from .io import load_tensors
        from .settings import BenchConfig
        from .training import RegressionModel

        path = Path(path)
        meta = read_model_json(path)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(
                f"{path} is not a saved latentdiff model ({MODEL_JSON} is another file)"
            )
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: model format version {meta.get('format_version')!r}; this latentdiff "
                f"reads version {FORMAT_VERSION}"
            )
        tensors, _ = load_tensors(path / MODEL_WEIGHTS)
        try:
            est = cls(**meta["params"])
            est.encoding_ = TableEncoding.from_dict(meta["encoding"])
            enc = meta["encoder"]
            if enc["name"] != ENCODER:
                raise ValueError(f"encoder {enc['name']!r}; this latentdiff saves {ENCODER!r}")
            spec = make_spec(enc["options"], int(enc["in_dim"]))
            model = RegressionModel(spec.build(), spec.out_dim)
            model.load_state_dict(tensors, strict=True)
            est.config_ = BenchConfig.from_dict(meta["settings"])
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            raise ValueError(
                f"{path}: the saved model is incomplete or inconsistent ({e})"
            ) from None
        est.model_ = model.eval()
        est._input_kind = meta["input"]
        est.columns_ = meta["columns"]
        est.target_ = meta["target"]
        est.n_features_in_ = len(est.columns_)
        if est._input_kind == "frame":
            est.feature_names_in_ = np.asarray([c["name"] for c in est.columns_], dtype=object)
        est.info_ = meta["info"]
        est.validation_ = meta["validation"]
        est.validation_counts_ = meta["validation_counts"]
        est.split_ = meta["split"]
        est.imputed_ = meta["imputed"]
        return est


# --- helpers --------------------------------------------------------------------------------------
def encode_rows(X, columns: list[dict], input_kind: str, encoding, who: str) -> np.ndarray:
    """The design matrix of new rows ``X`` for a model fitted on ``columns`` (its schema, as
    :func:`_schema` writes it) from a frame or an array (``input_kind``), or a ValueError naming
    a missing or extra column, a wrong type or an unseen category; ``who`` names the model."""
    frame, kind = _frame(X)
    names = [c["name"] for c in columns]
    if kind == "array" or input_kind == "array":
        if frame.shape[1] != len(names):
            raise ValueError(
                f"X has {frame.shape[1]} features, but {who} is expecting {len(names)} features "
                "as input"
            )
        frame.columns = names
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise ValueError(f"column {absent[0]!r} is missing (the model needs {names})")
    extra = [c for c in frame.columns if c not in names]
    if extra:
        raise ValueError(
            f"column {extra[0]!r} was not among the columns the model was fitted on {names}"
        )
    unseen = encoding.unseen_categories(frame)
    for c, values in unseen.items():
        raise ValueError(
            f"column {c!r} has a category the model has not seen: {values[0]!r} "
            f"(known: {encoding.categorical[c]})"
        )
    return encoding.transform(frame[names])


def read_model_json(path: Path):
    """The parsed ``model.json`` of the saved-model folder ``path`` (either task's); a missing
    folder, a folder without it or unreadable JSON refused, naming what is wrong."""
    if not path.is_dir():
        raise FileNotFoundError(f"model folder not found: {path}")
    if not (path / MODEL_JSON).is_file():
        raise ValueError(f"{path} is not a saved latentdiff model (it has no {MODEL_JSON})")
    try:
        return json.loads((path / MODEL_JSON).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path / MODEL_JSON} is not readable JSON: {e}") from None


def load_model(path):
    """A saved model of either task from the folder ``path``: a :class:`LatentDiffRegressor` or
    a :class:`latentdiff.classification.classifier.LDMLRClassifier`, by the ``format`` its
    ``model.json`` names (anything else is refused by the regressor's :meth:`load`)."""
    from .classification.classifier import FORMAT as CLASSIFIER_FORMAT
    from .classification.classifier import LDMLRClassifier

    meta_path = Path(path) / MODEL_JSON
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        meta = None  # the regressor's load names what is wrong with the folder
    if isinstance(meta, dict) and meta.get("format") == CLASSIFIER_FORMAT:
        return LDMLRClassifier.load(path)
    return LatentDiffRegressor.load(path)


def make_spec(options: dict, in_dim: int):
    """The tabular encoder spec with ``options``, ready to build for ``in_dim`` inputs (what
    ``prepare`` learns from a data set)."""
    from .encoders import make_encoder

    spec = make_encoder(ENCODER, **(options or {}))
    spec.in_dim = int(in_dim)
    return spec


def _frame(X) -> tuple[pd.DataFrame, str]:
    """``X`` as a DataFrame with string column names, and whether it came as a frame or an
    array (whose columns are named x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ValueError(f"X has the column {dup!r} twice")
        frame = X.copy()
        frame.columns = names
        return frame.reset_index(drop=True), "frame"
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("sparse input is not supported; pass a dense array or a DataFrame")
    a = np.asarray(X)
    if a.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got an array of shape {a.shape}: X must be 2-D (Reshape your "
            "data: one row per sample, one column per feature)"
        )
    if np.iscomplexobj(a):
        raise ValueError("Complex data not supported: X must hold real numbers or text")
    return pd.DataFrame(a, columns=[f"x{i}" for i in range(a.shape[1])]), "array"


def _labels(y, n: int) -> np.ndarray:
    from .validation import check_labels

    if y is None:
        raise ValueError("LatentDiffRegressor requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        import warnings

        from sklearn.exceptions import DataConversionWarning

        warnings.warn("A column-vector y was passed when a 1d array was expected; it is read "
                      "as one label per row", DataConversionWarning, stacklevel=3)  # fmt: skip
    y = check_labels(y, "y")
    if y.size != n:
        raise ValueError(f"X has {n} rows but y has {y.size} labels")
    return y


def _schema(frame: pd.DataFrame, encoding) -> list[dict]:
    """Each column's name, dtype at fitting, kind and (text) categories."""
    out = []
    for c in frame.columns:
        entry = {"name": c, "dtype": str(frame[c].dtype)}
        if c in encoding.categorical:
            entry.update(kind="categorical", categories=list(encoding.categorical[c]))
        else:
            entry["kind"] = "numeric"
        out.append(entry)
    return out


def _counts(regions) -> dict[str, int]:
    from .metrics import region_counts

    return region_counts(regions)


def _jsonable(obj):
    """``obj`` as JSON reads it back (numpy numbers and arrays as numbers and lists, paths as
    text, anything else JSON cannot hold as its text)."""
    from .io import _default, _finite

    def default(o):
        try:
            return _default(o)
        except TypeError:
            return str(o)

    return _finite(json.loads(json.dumps(obj, default=default)))


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict | list):
        return json.dumps(v)
    return str(v)


def _candidate_tables(info, prefix: str = "", depth: int = 0) -> list[tuple[str, list[dict]]]:
    """Lists of records with a score (``*score*`` key) in a method's report, e.g.
    ``latentdiff-tuned``'s ``tuning.candidates``: the candidates it chose among."""
    out = []
    if not isinstance(info, dict) or depth > 2:
        return out
    for k, v in info.items():
        name = f"{prefix}{k}"
        if (isinstance(v, list) and v and all(isinstance(r, dict) for r in v)
                and all(any("score" in str(c) for c in r) for r in v)):  # fmt: skip
            chosen = f"; chosen: {_fmt(info['chosen'])}" if "chosen" in info else ""
            out.append((f"candidates ({name}){chosen}", v))
        elif isinstance(v, dict):
            out += _candidate_tables(v, f"{name}.", depth + 1)
    return out
