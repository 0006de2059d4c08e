"""LDMLRSampler: imbalanced-learn's sampler contract with class labels (seed 002, stage 2)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import parametrize_with_checks
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from latentdiff import LDMLRSampler

#: a small, fast diffusion model for tests
TINY = {"n_steps": 30, "hidden_dim": 16, "n_blocks": 1, "embed_dim": 8, "batch_size": 64,
        "early_stopping": False}  # fmt: skip


def _blobs(counts, d=3, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    X = rng.normal(size=(y.size, d)) + 4.0 * y[:, None]
    if labels is not None:
        y = np.asarray(labels, dtype=object)[y]
    return X, y


@parametrize_with_checks(
    [LDMLRSampler(diffusion=TINY, random_state=0)],
    # sparse input is refused with a TypeError (the diffusion model takes dense vectors); this
    # check runs for any sampler that takes DataFrames, whatever its sparse tag says
    expected_failed_checks=lambda est: {"check_samplers_pandas_sparse": "sparse refused"},
)
def test_imbalanced_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


@sklearn_checks([LDMLRSampler(diffusion=TINY, random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_originals_first_then_the_planned_rows_with_labels_as_given():
    X, y = _blobs([150, 60, 10], labels=["ant", "bee", "cow"])
    s = LDMLRSampler(sampling_strategy="all", ratio=0.2, diffusion=TINY, random_state=0)
    X_res, y_res = s.fit_resample(X, y)
    n_new = round(0.2 * 220)  # 44 = 15 + 15 + 14: evenly, the remainder to the rarest
    assert X_res.shape == (220 + n_new, 3) and X_res.dtype == X.dtype
    np.testing.assert_array_equal(X_res[:220], X)
    assert list(y_res[:220]) == list(y) and y_res.dtype == object
    assert s.sampling_strategy_ == {"ant": 14, "bee": 15, "cow": 15}
    assert list(y_res[220:]) == ["ant"] * 14 + ["bee"] * 15 + ["cow"] * 15
    assert all(isinstance(v, str) for v in y_res[220:])
    np.testing.assert_array_equal(s.sample_indices_, np.arange(220))
    assert list(s.class_regions_) == ["many", "medium", "few"]
    # few: the two rarest regions' rows only; the region of no class is refused
    s.set_params(sampling_strategy="few").fit(X, y)
    assert s.sampling_strategy_ == {"ant": 0, "bee": 0, "cow": 44}
    X, y = _blobs([150, 130])
    with pytest.raises(ValueError, match="no class is in region 'few'"):
        s.fit(X, y)


def test_integer_and_float_labels_keep_their_type_and_a_dict_strategy():
    X, y = _blobs([60, 30, 12])
    for labels in (y.astype(np.int32), y.astype(np.float64) + 10.0):
        s = LDMLRSampler(sampling_strategy={labels[-1]: 40}, diffusion=TINY, random_state=1)
        X_res, y_res = s.fit_resample(X.astype(np.float32), labels)
        assert y_res.dtype == labels.dtype and X_res.dtype == np.float32
        assert np.all(y_res[102:] == labels[-1]) and y_res.size == 102 + 28  # 40 after
    X_res, y_res = LDMLRSampler(ratio=0.0, diffusion=TINY).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X)


def test_pandas_in_pandas_out_and_the_same_rows_for_a_seed():
    X, y = _blobs([60, 30, 12], labels=["x", "y", "z"])
    frame, labels = pd.DataFrame(X, columns=["a", "b", "c"]), pd.Series(y, name="kind")
    s = LDMLRSampler(diffusion=TINY, random_state=3)
    X1, y1 = s.fit_resample(frame, labels)
    assert list(X1.columns) == ["a", "b", "c"] and y1.name == "kind"
    X2, y2 = LDMLRSampler(diffusion=TINY, random_state=3).fit_resample(X, y)
    np.testing.assert_array_equal(X1.to_numpy(), X2)
    assert list(y1) == list(y2)


def test_the_rows_are_those_of_the_class_diffusion_as_the_bench_draws_them():
    # one diffusion implementation: the sampler's new rows are ClassFeatureDiffusion's, seeded
    # as run_classification seeds it (fit with s, sample with s + 1)
    from latentdiff.classification.class_diffusion import ClassFeatureDiffusion
    from latentdiff.classification.ldmlr import generation_counts, generation_labels
    from latentdiff.samplers.class_conditional import ldmlr_diffusion

    X, y = _blobs([150, 60, 10])
    X = X.astype(np.float32)
    sampler = LDMLRSampler(sampling_strategy="all", diffusion=TINY, random_state=5)
    X_res, y_res = sampler.fit_resample(X, y)
    gen = ClassFeatureDiffusion(ldmlr_diffusion(TINY), n_classes=3, random_state=5,
                                progress=False).fit(X, y)  # fmt: skip
    labels = generation_labels(generation_counts([150, 60, 10], ["many", "medium", "few"]))
    np.testing.assert_array_equal(X_res[220:], gen.sample(labels, random_state=6))
    np.testing.assert_array_equal(y_res[220:], labels)


def test_the_default_target_is_the_rarest_region_present():
    # "tail": few where a class is few; with no few class, the medium ones (seed 002 Table 4)
    X, y = _blobs([150, 60, 10])
    s = LDMLRSampler(diffusion=TINY, random_state=0).fit(X, y)
    assert {k for k, n in s.sampling_strategy_.items() if n > 0} == {2}
    X, y = _blobs([150, 60, 30])
    s = LDMLRSampler(diffusion=TINY, random_state=0).fit(X, y)
    assert {k for k, n in s.sampling_strategy_.items() if n > 0} == {1, 2}


@pytest.mark.slow  # about 15 s: a class of one row needs a well-trained model
def test_generated_rows_lie_with_their_class_and_a_class_of_one_row():
    X, y = _blobs([120, 80, 1], d=2, seed=4)  # class 2: one row
    diffusion = {"n_steps": 1500, "max_epochs": None}
    s = LDMLRSampler(sampling_strategy="all", ratio=0.5, diffusion=diffusion, random_state=0)
    X_res, y_res = s.fit_resample(X, y)
    new, lab = X_res[y.size :], y_res[y.size :]
    means = np.stack([X[y == k].mean(0) for k in range(3)])  # class 2's "mean" is its row
    nearest = np.argmin(((new[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert s.class_counts_.tolist() == [120, 80, 1] and (lab == 2).sum() == 34
    for k in range(3):  # each class's new rows lie nearest its own centre
        assert (nearest[lab == k] == k).mean() > 0.9, k


@pytest.mark.parametrize(
    "X, y, msg",
    [
        (np.ones((10, 2)), np.zeros(10), "at least 2 classes"),
        (np.ones((10, 2)), np.r_[np.zeros(9), 0.5], "Unknown label type"),
        (np.ones((10, 2)), np.arange(9) % 2, "inconsistent numbers of samples"),
        (np.r_[np.ones((9, 2)), [[np.nan, 1]]], np.arange(10) % 2, "contains NaN"),
        (np.ones((10, 2)), np.r_[np.arange(9) % 2, np.nan], "contains NaN"),
        (np.ones((4, 2)), np.array(["a", "b", None, "a"], dtype=object), "1 missing label"),
    ],
)
def test_bad_input_is_refused_clearly(X, y, msg):
    with pytest.raises(ValueError, match=msg):
        LDMLRSampler(diffusion=TINY).fit_resample(X, y)


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"sampling_strategy": "minority"}, "sampling_strategy must be one of all, many"),
        ({"ratio": -0.1}, "ratio must be a finite number"),
        ({"thresholds": (20, 100)}, "thresholds must be two integers"),
        ({"diffusion": {"n_stepz": 3}}, "n_stepz"),
    ],
)
def test_bad_settings_are_refused_before_work(params, msg):
    X, y = _blobs([30, 10])
    with pytest.raises((ValueError, KeyError), match=msg):
        LDMLRSampler(**params).fit_resample(X, y)


def test_pipeline_with_logistic_regression_on_digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    keep = np.concatenate([rng.permutation(np.flatnonzero(y == k))[: 150 // (k + 1)]
                           for k in range(10)])  # fmt: skip
    pipe = Pipeline([("ldmlr", LDMLRSampler(sampling_strategy="few", diffusion=TINY,
                                            random_state=0)),
                     ("clf", LogisticRegression(max_iter=300))])  # fmt: skip
    pipe.fit(X[keep] / 16.0, y[keep])
    sampler = pipe.named_steps["ldmlr"]
    assert sum(sampler.sampling_strategy_.values()) == round(0.2 * keep.size)
    pred = pipe.predict(X / 16.0)  # predicting skips the sampler: one prediction per row
    assert pred.shape == (len(y),) and (pred == y).mean() > 0.7
