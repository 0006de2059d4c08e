"""``LDMLRSampler``: LDMLR's stage 2 (seed 002, sec. 3.3) as an imbalanced-learn over-sampler
on feature vectors with class labels, the classification sibling of
:class:`~latentdiff.samplers.LatentDiffSampler`.

``fit_resample(X, y)`` fits the class-conditional feature diffusion
(:class:`~latentdiff.classification.class_diffusion.ClassFeatureDiffusion`, eq. 9-10) on
``X`` and its classes, draws new rows for the targeted classes (eq. 11-12) and returns ``X``
followed by them, with their labels: features in, features out, so that any classifier can
follow it in an
``imblearn.pipeline.Pipeline``. Which classes get new rows and how many is seed 002's choice:
the classes of one shot region (``all`` / ``many`` / ``medium`` / ``few`` / ``tail``, Table 4) at an
augmentation ratio (generated / real rows, Figure 2), spread evenly over the targeted classes
(:func:`latentdiff.classification.ldmlr.generation_counts`); or, as imbalanced-learn's
over-samplers take it, a dict ``{class: rows wanted after resampling}``.

Input handling is imbalanced-learn's (:class:`imblearn.base.BaseSampler`): lists, arrays and
DataFrames / Series come back as they came; a continuous target is refused ("Unknown label
type"), so are NaN / inf in ``X``, sparse ``X``, mismatched lengths and a single class. Labels are
taken as they are, integers or strings; the new rows' labels are values of ``y`` itself, so they
have its type and dtype. Feature dtypes: floating ``X`` keeps its dtype, integer ``X`` comes
back as float64.

A class with a single row is accepted (decided for the seed's own regime: CIFAR-100-LT at IF 100
has classes of 5 rows, and a class of one is its limit): the denoiser is shared by all classes
and only its class embedding is particular to that class, so its new rows are drawn around the
one row, with the spread the shared network has learnt from all classes. Measured on three
2-d Gaussian classes of 120, 80 and 1 rows: with LDMLR's network and 1,500 steps the one-row
class's new rows lie around its row (spread 0.5 against the others' 0.8) and every new row
nearest its own class (``tests/test_ldmlr_sampler.py``); with a 32-unit network and 400-600
steps they scattered (spread 3-15), 25-40 % of them nearer another class. A class of one row
needs a well-trained model; nothing warns about it, ``class_counts_`` shows it.
"""

from __future__ import annotations

import numpy as np
from imblearn.base import BaseSampler
from imblearn.utils import check_sampling_strategy
from imblearn.utils._validation import ArraysTransformer
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from ..classification.ldmlr import TARGETS, generation_counts, generation_labels
from ..classification.longtail import CLASS_THRESHOLDS, class_regions, encode_classes


def ldmlr_diffusion(diffusion: dict | None = None) -> dict:
    """The diffusion settings of LDMLR (``LDMLRSettings().diffusion``: seed 002's epsilon
    prediction, linear schedule, T = 50, ancestral sampling, 3,000 steps) with ``diffusion``'s
    entries (any :class:`latentdiff.settings.DiffusionConfig` name) in place of the defaults."""
    from ..classification.methods import LDMLRSettings
    from ..settings import DiffusionConfig

    if diffusion is not None and not isinstance(diffusion, dict):
        if hasattr(diffusion, "to_dict"):
            diffusion = diffusion.to_dict()
        else:
            raise ValueError(f"diffusion must be a dict of DiffusionConfig settings or a "
                             f"DiffusionConfig, got {diffusion!r}")  # fmt: skip
    merged = {**LDMLRSettings().diffusion, **(diffusion or {})}
    DiffusionConfig.from_dict(merged, prefix="diffusion.")  # checked by name before any work
    return merged


class LDMLRSampler(BaseSampler):
    """Class-conditional feature-diffusion over-sampler (LDMLR, seed 002).

    Parameters
    ----------
    sampling_strategy : {"tail", "all", "many", "medium", "few"} or dict, default "tail"
        Which classes get generated rows (seed 002, Table 4): every class, or those of one shot
        region by their row count in ``y`` (``many`` above ``thresholds[0]`` rows, ``few`` below
        ``thresholds[1]``, ``medium`` otherwise); ``tail`` is the rarest region any class is in
        (few, else medium), the default as in ``latentdiff bench --task classification``. A
        region with no class is refused. A dict
        ``{class: n}`` asks for ``n`` rows of that class after resampling (imbalanced-learn's
        meaning for over-samplers; ``ratio`` is then not used).
    ratio : float, default 0.2
        Generated rows as a fraction of all rows of ``X`` (seed 002's augmentation ratio, Figure
        2), ``round(ratio * n)`` in all, spread evenly over the targeted classes (the remainder
        one each to the rarest). 0 returns the input unchanged and trains nothing.
    thresholds : (int, int), default (100, 20)
        The (many above, few below) row counts of the regions.
    diffusion : dict, optional
        :class:`latentdiff.settings.DiffusionConfig` settings in place of LDMLR's
        (:func:`ldmlr_diffusion`), e.g. ``{"n_steps": 500}``.
    random_state : int, RandomState or None
        Seeds the diffusion model (initialisation, batches, noise) and the sampling. An integer
        ``s`` trains with seed ``s`` and samples with ``s + 1``, as
        :func:`latentdiff.classification.methods.run_classification` does.
    progress : bool, default False
        Progress bar of the diffusion training.

    Attributes
    ----------
    classes_ : ndarray
        The distinct labels, sorted (``np.unique``'s order).
    class_counts_ : ndarray of int
        Rows per class in ``y``.
    class_regions_ : ndarray of str
        The shot region of each class.
    sampling_strategy_ : dict
        ``{class: rows generated}`` for every class (imbalanced-learn's fitted attribute).
    generator_ : ClassFeatureDiffusion or None
        The fitted diffusion model (None when nothing was generated).
    sample_indices_ : ndarray of int
        The original rows kept: all of them, first and in their order.
    """

    _sampling_type = "over-sampling"

    def __init__(
        self,
        sampling_strategy="tail",
        ratio: float = 0.2,
        thresholds: tuple[int, int] = CLASS_THRESHOLDS,
        diffusion: dict | None = None,
        random_state=None,
        progress: bool = False,
    ):
        self.sampling_strategy = sampling_strategy
        self.ratio = ratio
        self.thresholds = thresholds
        self.diffusion = diffusion
        self.random_state = random_state
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # the diffusion model takes dense feature vectors
        tags.sampler_tags.sample_indices = True
        return tags

    # --- checks -------------------------------------------------------------------------------
    def _check_params(self) -> dict:
        """The settings checked before any work; returns the diffusion settings."""
        s = self.sampling_strategy
        if not isinstance(s, dict) and (not isinstance(s, str) or s not in TARGETS):
            raise ValueError(f"sampling_strategy must be one of {', '.join(TARGETS)} or a dict "
                             f"{{class: rows after resampling}}, got {s!r}")  # fmt: skip
        r = self.ratio
        if (
            isinstance(r, bool)
            or not isinstance(r, int | float | np.number)
            or not (np.isfinite(r) and r >= 0)
        ):
            raise ValueError(f"ratio must be a finite number >= 0, got {r!r}")
        t = self.thresholds
        if (
            not isinstance(t, tuple | list)
            or len(t) != 2
            or any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in t)
            or not 0 < t[1] <= t[0]
        ):
            raise ValueError(f"thresholds must be two integers (many above, few below) with "
                             f"0 < few <= many, got {t!r}")  # fmt: skip
        if not isinstance(self.progress, bool | np.bool_):
            raise ValueError(f"progress must be True or False, got {self.progress!r}")
        return ldmlr_diffusion(self.diffusion)

    def _checked(self, X, y):
        """imbalanced-learn's input checks, then the labels' (missing, one class)."""
        diffusion = self._check_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")  # fmt: skip
        labels = np.asarray(y)
        if labels.dtype == object:  # None / NaN among text labels: numpy cannot even sort them
            n = sum(v is None or (isinstance(v, float) and np.isnan(v)) for v in labels.ravel())
            if n:
                raise ValueError(f"y has {n} missing label(s) (None or NaN)")
        check_classification_targets(y)  # a continuous target: "Unknown label type"
        X, y, binarized = self._check_X_y(X, y, accept_sparse=False)
        if X.shape[0] < 2:
            raise ValueError(f"need at least 2 samples to fit, got n_samples = {X.shape[0]}")
        classes, codes = encode_classes(y)
        return X, y, binarized, classes, codes, diffusion

    def _plan(self, y, classes, codes) -> np.ndarray:
        """Rows to generate per class code; sets the class attributes and ``sampling_strategy_``."""
        counts = np.bincount(codes, minlength=classes.size)
        regions = class_regions(counts, tuple(self.thresholds))
        first = np.array([np.flatnonzero(codes == k)[0] for k in range(classes.size)])
        self.classes_ = y[first]  # the labels as given (type and dtype of y)
        self.class_counts_ = counts
        self.class_regions_ = regions
        if isinstance(self.sampling_strategy, dict):
            wanted = check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
            per_class = np.zeros(classes.size, np.int64)
            for label, n in wanted.items():
                per_class[int(codes[np.flatnonzero(y == label)[0]])] = int(n)
        else:
            per_class = generation_counts(counts, regions, self.sampling_strategy,
                                          float(self.ratio))  # fmt: skip
        self.sampling_strategy_ = {
            _plain(label): int(n) for label, n in zip(self.classes_, per_class, strict=True)
        }
        return per_class

    # --- the public methods ------------------------------------------------------------------
    def fit(self, X, y):
        """Check the input and the settings and plan the generation (``sampling_strategy_``);
        the diffusion model is trained by :meth:`fit_resample`."""
        X, y, _, classes, codes, _ = self._checked(X, y)
        self._plan(y, classes, codes)
        return self

    def fit_resample(self, X, y):
        """``X`` followed by the generated rows, and ``y`` followed by their labels."""
        arrays = ArraysTransformer(X, y)
        X, y, binarized, classes, codes, diffusion = self._checked(X, y)
        X_res, y_res = self._fit_resample(X, y, classes, codes, diffusion)
        if binarized:
            y_res = label_binarize(y_res, classes=np.unique(y))
        return arrays.transform(X_res, y_res)

    def _fit_resample(self, X, y, classes, codes, diffusion):
        from ..classification.class_diffusion import ClassFeatureDiffusion

        per_class = self._plan(y, classes, codes)
        self.sample_indices_ = np.arange(y.size)
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float64)
        X = X.astype(dtype, copy=False)
        self.generator_ = None
        if per_class.sum() == 0:
            return X, y
        rs = self.random_state
        if isinstance(rs, int | np.integer) and not isinstance(rs, bool):
            fit_seed, sample_seed = int(rs), int(rs) + 1
        else:
            draws = check_random_state(rs).randint(2**31 - 1, size=2)
            fit_seed, sample_seed = int(draws[0]), int(draws[1])
        gen = ClassFeatureDiffusion(diffusion, n_classes=classes.size, random_state=fit_seed,
                                    progress=bool(self.progress))  # fmt: skip
        self.generator_ = gen.fit(X.astype(np.float32), codes)  # eq. 10 on (z, y)
        y_gen = generation_labels(per_class)  # class codes, class by class
        X_gen = gen.sample(y_gen, random_state=sample_seed)  # eq. 11-12
        return (
            np.concatenate([X, X_gen.astype(dtype, copy=False)]),
            np.concatenate([y, self.classes_[y_gen]]),
        )


def _plain(value):
    return value.item() if hasattr(value, "item") else value
