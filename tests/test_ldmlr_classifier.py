"""LDMLRClassifier (LDMLR on a table, seed 002): scikit-learn behaviour, classes as given, the
saved model (equal predictions after loading), ``latentdiff fit --task classification`` and
``latentdiff predict`` on a classifier."""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from latentdiff import LDMLRClassifier, load_model
from latentdiff.classification.methods import logit_adjust
from latentdiff.estimator import MODEL_JSON, MODEL_WEIGHTS, LatentDiffRegressor

TINY = {"n_steps": 40, "hidden_dim": 16, "n_blocks": 1, "embed_dim": 8, "batch_size": 64,
        "early_stopping": False}  # fmt: skip
FAST = {"epochs": 4, "fine_tune_epochs": 2, "feature_dim": 8, "diffusion": TINY}


def _table(n=(150, 60, 12), seed=0, labels=("ant", "bee", "cow")) -> pd.DataFrame:
    """Three classes of a long tail: many, medium and few rows; a numeric gap, a text column."""
    rng = np.random.default_rng(seed)
    code = np.repeat(np.arange(len(n)), n)
    x = rng.normal(size=(code.size, 3)) + 2.0 * code[:, None]
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    df["colour"] = rng.choice(["red", "blue"], code.size)
    df.loc[::23, "b"] = np.nan
    df["kind"] = np.asarray(labels, dtype=object)[code]
    return df


@pytest.fixture(scope="module")
def data():
    df = _table()
    return df.drop(columns="kind"), df["kind"]


@pytest.fixture(scope="module")
def fitted(data):
    return LDMLRClassifier(**FAST).fit(*data)


def test_string_classes_come_back_as_strings(fitted, data):
    X, y = data
    assert fitted.classes_.tolist() == ["ant", "bee", "cow"] and fitted.classes_.dtype.kind == "U"
    pred = fitted.predict(X)
    assert pred.shape == (len(X),) and set(pred) <= {"ant", "bee", "cow"}
    assert all(isinstance(v, str) for v in pred.tolist())
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(1)], pred)
    assert (pred == y.to_numpy()).mean() > 0.6  # separable classes, four epochs
    assert fitted.class_regions_.tolist() == ["many", "medium", "few"]
    # per class min(n // 3, 30) validation rows: 30, 20, 4; the generated features: 20 % of 168
    assert fitted.split_["n_val"] == 54 and fitted.class_counts_.tolist() == [120, 40, 8]
    assert sum(fitted.info_["ldmlr"]["generated_per_class"]) == round(0.2 * 168)
    assert fitted.target_ == "kind" and fitted.imputed_["b"]["train"] > 0


def test_integer_classes_and_whole_floats_are_integers():
    df = _table(labels=(3, 7, 11))
    X, y = df.drop(columns="kind"), df["kind"].astype(np.int64)
    est = LDMLRClassifier(method="ce", epochs=2, feature_dim=8).fit(X, y)
    assert est.classes_.tolist() == [3, 7, 11] and est.classes_.dtype.kind == "i"
    assert est.predict(X).dtype.kind == "i"
    est2 = LDMLRClassifier(method="ce", epochs=2, feature_dim=8).fit(X, y.astype(float))
    np.testing.assert_array_equal(est2.predict(X), est.predict(X))


def test_label_shift_subtracts_the_log_training_priors(data):
    X, y = data
    ce = LDMLRClassifier(method="ce", epochs=3, feature_dim=8).fit(X, y)
    ls = LDMLRClassifier(method="label-shift", epochs=3, feature_dim=8).fit(X, y)
    want = logit_adjust(ce.decision_function(X), ce.class_counts_)  # same stage 1, same seed
    np.testing.assert_allclose(ls.decision_function(X), want, rtol=1e-6)
    prior = ce.class_counts_ / ce.class_counts_.sum()
    np.testing.assert_allclose(ls.decision_function(X) - ce.decision_function(X),
                               np.broadcast_to(-np.log(prior), (len(X), 3)), rtol=1e-5)  # fmt: skip


def test_save_and_load_predict_exactly_the_same(tmp_path, fitted, data):
    X, _ = data
    fitted.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [MODEL_JSON, MODEL_WEIGHTS]
    meta = json.loads((tmp_path / "m" / MODEL_JSON).read_text())
    assert meta["format"] == "latentdiff-classifier" and meta["task"] == "classification"
    assert meta["classes"] == ["ant", "bee", "cow"] and meta["class_counts"] == [120, 40, 8]
    back = load_model(tmp_path / "m")
    assert isinstance(back, LDMLRClassifier) and back.get_params() == fitted.get_params()
    np.testing.assert_array_equal(back.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), fitted.predict(X))
    assert back.classes_.dtype == fitted.classes_.dtype and back.validation_ == fitted.validation_
    with pytest.raises(ValueError, match="not a saved latentdiff model"):
        LatentDiffRegressor.load(tmp_path / "m")  # a regressor does not read a classifier
    (tmp_path / "m" / MODEL_JSON).write_text(json.dumps({**meta, "classes": ["ant", "bee"]}))
    with pytest.raises(ValueError, match="incomplete or inconsistent"):
        LDMLRClassifier.load(tmp_path / "m")


def test_new_rows_with_problems_are_refused_naming_the_column(fitted, data):
    X, _ = data
    with pytest.raises(ValueError, match="column 'c' is missing"):
        fitted.predict(X.drop(columns="c"))
    with pytest.raises(ValueError, match="column 'other' was not among the columns"):
        fitted.predict(X.assign(other=1.0))
    with pytest.raises(ValueError, match="'colour' has a category the model has not seen"):
        fitted.predict(X.assign(colour="green"))
    assert fitted.predict(X.iloc[:0]).shape == (0,)


@pytest.mark.parametrize(
    "y, msg",
    [
        (np.zeros(30), "at least 2 classes"),
        (np.r_[np.zeros(29), 0.5], "not a whole number"),
        (np.r_[np.zeros(15), np.ones(14), np.nan], "missing or infinite"),
        (np.array(["a"] * 15 + ["b"] * 14 + [None], dtype=object), "1 missing value"),
        (np.r_[np.zeros(15), np.ones(14)], "X has 30 rows but y has 29 labels"),
        (np.r_[np.zeros(2), np.ones(2)], "too few to carve a validation split"),
    ],
)
def test_bad_labels_are_refused(y, msg):
    X = np.random.default_rng(0).normal(size=(max(len(y), 30), 2))[: max(len(y), 30)]
    if "rows but" not in msg:
        X = X[: len(y)]
    with pytest.raises(ValueError, match=msg):
        LDMLRClassifier(method="ce", epochs=1).fit(X, y)


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"method": "wcdas"}, "method must be one of"),
        ({"target": "rare"}, "target must be one of"),
        ({"ratio": -1}, "ratio must be"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"diffusion": {"n_stepz": 3}}, "n_stepz"),
        ({"target": "few", "epochs": 10**9}, "no class is in region 'few'"),  # before training
    ],
)
def test_bad_parameters_are_refused_before_training(params, msg):
    df = _table(n=(150, 60, 40))  # no few class
    with pytest.raises(ValueError, match=msg):
        LDMLRClassifier(**params).fit(df.drop(columns="kind"), df["kind"])


def test_clone_keeps_the_parameters_and_fits_nothing(fitted):
    c = clone(fitted)
    assert c.get_params() == fitted.get_params() and not hasattr(c, "model_")


def test_cross_validation_with_string_classes(data):
    from sklearn.model_selection import cross_val_score

    X, y = data
    scores = cross_val_score(LDMLRClassifier(method="ce", epochs=3, feature_dim=8), X, y, cv=2)
    assert scores.shape == (2,) and np.all((scores > 0.4) & (scores <= 1))


def test_scikit_learn_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            LDMLRClassifier(**{**FAST, "diffusion": {**TINY, "n_steps": 5}}),
            on_fail=None,
            # four epochs of an 8-feature network are kept small for speed, not to fit
            # scikit-learn's toy data to its accuracy bar
            expected_failed_checks={"check_classifiers_train": "tiny training for speed"},
        )
    failed = [(r["check_name"], r["exception"]) for r in results if r["status"] == "failed"]
    assert failed == []


# --- the command line ---------------------------------------------------------------------------


def _cli(args, capsys):
    from latentdiff.cli import main

    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_fit_and_predict_a_classifier(tmp_path, capsys):
    df = _table().assign(row=lambda d: [f"r{i}" for i in range(len(d))])
    df.to_csv(tmp_path / "train.csv", index=False)
    model = tmp_path / "model"
    args = ["fit", "--task", "classification", "--data", tmp_path / "train.csv", "--target",
            "kind", "--out", model, "--id-column", "row", "--epochs", "4",
            "--ldmlr-option", "target=few", "--diffusion-steps", "40",
            "--diffusion-option", "hidden_dim=16",
            "--encoder-option", "feature_dim=8", "--ldmlr-option", "gamma=0.1",
            "--ldmlr-option", "epochs=3", "--ldmlr-option", "diffusion.embed_dim=8",
            "--no-progress"]  # fmt: skip
    rc, out, err = _cli(args, capsys)
    assert rc == 0, err
    assert "| few |" in out and "'cow': 34" in out and "model saved in" in out
    est = load_model(model)
    assert est.target == "few" and est.gamma == 0.1 and est.fine_tune_epochs == 3
    assert est.diffusion_["n_steps"] == 40 and est.diffusion_["embed_dim"] == 8
    new = _table(n=(5, 5, 5), seed=1).assign(row=lambda d: [f"n{i}" for i in range(len(d))])
    new.to_csv(tmp_path / "new.csv", index=False)  # with its class column: ignored
    rc, _, err = _cli(["predict", model, "--data", tmp_path / "new.csv", "--out",
                       tmp_path / "p.csv", "--id-column", "row"], capsys)  # fmt: skip
    assert rc == 0, err
    pred = pd.read_csv(tmp_path / "p.csv")
    assert list(pred.columns) == ["row", "prediction", "proba_ant", "proba_bee", "proba_cow"]
    rows = new.drop(columns=["kind", "row"])
    assert list(pred["prediction"]) == est.predict(rows).tolist()
    np.testing.assert_allclose(pred[["proba_ant", "proba_bee", "proba_cow"]],
                               est.predict_proba(rows), rtol=1e-12)  # fmt: skip
    for name, frame, msg in [
        ("missing", new.drop(columns="a"), "column 'a' is missing"),
        ("extra", new.assign(other=1), "column 'other' of .* is not a feature"),
    ]:
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        rc, _, err = _cli(["predict", model, "--data", tmp_path / f"{name}.csv", "--out",
                           tmp_path / f"{name}-p.csv", "--id-column", "row"], capsys)  # fmt: skip
        assert rc == 2 and err.count("\n") == 1 and re.search(msg, err), (name, err)
        assert not (tmp_path / f"{name}-p.csv").exists()


def test_cli_classification_refusals(tmp_path, capsys):
    df = _table()
    df.to_csv(tmp_path / "t.csv", index=False)
    base = ["fit", "--data", tmp_path / "t.csv", "--out", tmp_path / "m"]
    cls = [*base, "--task", "classification"]
    for args, msg in [
        ([*cls, "--target", "kind", "--n-bins", "4"], "--n-bins does not apply to --task class"),
        ([*cls, "--target", "kind", "--no-gate"], "--no-gate does not apply"),
        ([*cls, "--target", "kind", "--encoder-option", "hidden_dims=[8]"], "feature_dim, drop"),
        ([*cls, "--target", "kind", "--method-option", "lds.kernel=x"], "--method-option does"),
        ([*cls, "--target", "kind", "--ldmlr-option", "use=generated"], "takes target, ratio"),
        ([*cls, "--target", "kind", "--methods", "vanilla"], "method must be one of"),
        ([*cls, "--target", "kind", "--diffusion-option", "n_stepz=1"], "n_stepz"),
        ([*cls, "--target", "a"], "not a whole number"),
        ([*cls, "--target", "nope"], "target column 'nope' not in"),
        ([*base, "--target", "kind", "--methods", "vanilla"], "--task classification"),
        ([*base, "--target", "a", "--ldmlr-option", "target=few"], "add --task classification"),
    ]:
        rc, _, err = _cli(args, capsys)
        assert rc == 2 and err.count("\n") == 1 and msg in err, (args, err)
        assert not (tmp_path / "m").exists()
