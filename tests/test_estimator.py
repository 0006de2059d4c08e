"""LatentDiffRegressor (a model for new rows): scikit-learn behaviour, the saved model (no
pickle, equal predictions after loading), and ``latentdiff fit`` / ``latentdiff predict``."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_DIFFUSION, long_tailed_frame
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from latentdiff.estimator import DEFAULT_METHOD, MODEL_JSON, MODEL_WEIGHTS, LatentDiffRegressor

FAST = {
    "method": "vanilla",
    "train": {"epochs": 3, "batch_size": 64, "patience": None},
    "encoder_options": {"hidden_dims": [16]},
    "eval_bins": 10,
}
FAST_LATENTDIFF = {
    **FAST,
    "method": "latentdiff",
    "sampler": {"n_bins": 5, "ratio": 0.3, "diffusion": {**FAST_DIFFUSION, "n_steps": 10}},
    "head": {"epochs": 2, "batch_size": 64, "patience": None},
}


def _gappy(n=300, seed=0) -> pd.DataFrame:
    """The tiny long-tailed table with gaps in a numeric and a text column."""
    df = long_tailed_frame(n, seed)
    df.loc[::13, "x2"] = np.nan
    df.loc[::17, "kind"] = None
    return df


@pytest.fixture(scope="module")
def data():
    df = _gappy()
    return df.drop(columns="target"), df["target"]


@pytest.fixture(scope="module")
def fitted(data):
    return LatentDiffRegressor(**FAST).fit(*data)


def test_parameters_are_plain_and_clone_does_no_work():
    est = LatentDiffRegressor(method="not-a-method", eval_bins=0)  # checked in fit, not here
    params = est.get_params()
    assert params["method"] == "not-a-method" and params["missing"] == "impute"
    assert LatentDiffRegressor().method == DEFAULT_METHOD
    twin = clone(LatentDiffRegressor(**FAST))
    assert twin.get_params() == LatentDiffRegressor(**FAST).get_params()
    assert not hasattr(twin, "model_")


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"method": "nonsense"}, "unknown method 'nonsense'"),
        ({"missing": "drop"}, "missing = 'drop'"),
        ({"eval_bins": 0}, "eval_bins"),
        ({"random_state": -1}, "random_state"),
        ({"train": {"epochs": 0}}, "train.epochs = 0"),
        ({"sampler": {"ratio": 0.5}}, "sampler is set but none of the methods vanilla"),
        ({"method_options": {"lds": {"kernel": "cauchy"}}, "method": "lds"}, "kernel"),
        ({"encoder_options": {"width": 3}}, "encoder 'mlp' does not take"),
    ],
)
def test_bad_parameters_are_refused_before_training(data, params, msg):
    with pytest.raises(ValueError, match=msg):
        LatentDiffRegressor(**{**FAST, **params}).fit(*data)


def test_fit_predict_keeps_rows_and_imputes(fitted, data):
    X, y = data
    p = fitted.predict(X)
    assert p.dtype == np.float64 and p.shape == (len(X),) and np.isfinite(p).all()
    # row order: predictions of reordered rows are the reordered predictions
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(fitted.predict(X.iloc[order]), p[order])
    assert fitted.predict(X.iloc[:0]).shape == (0,)
    assert fitted.score(X, y) == pytest.approx(
        1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
    )
    assert set(fitted.imputed_) == {"x2", "kind"}
    assert sum(fitted.imputed_["x2"].values()) == X["x2"].isna().sum()
    assert "<missing>" in fitted.encoding_.categorical["kind"]
    assert set(fitted.validation_) == {"all", "many", "medium", "few"}
    assert list(fitted.feature_names_in_) == ["x1", "x2", "kind"]
    assert "| all |" in fitted.validation_report()


def test_new_rows_with_problems_are_refused_naming_the_column(fitted, data):
    X, _ = data
    cases = [
        (X.drop(columns="x1"), "column 'x1' is missing"),
        (X.assign(extra=1.0), "column 'extra' was not among"),
        (X.assign(x1=["abc"] + [1.0] * (len(X) - 1)), "'x1' is numeric but .* 'abc'"),
        (X.assign(kind=["purple"] + ["low"] * (len(X) - 1)), "'kind' has a category .* 'purple'"),
        (X.assign(x2=np.inf), "'x2' has .* infinite"),
    ]
    for bad, msg in cases:
        with pytest.raises(ValueError, match=msg):
            fitted.predict(bad)


def test_arrays_and_the_refuse_setting(data):
    X, y = data
    A = X[["x1"]].assign(x3=X["x1"] * 2).to_numpy()
    est = LatentDiffRegressor(**FAST).fit(A, y.to_numpy())
    assert est.predict(A).shape == (len(A),) and not hasattr(est, "feature_names_in_")
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 2"):
        est.predict(np.c_[A, A[:, 0]])
    with pytest.raises(ValueError, match="feature column 'x2' has 24 missing value"):
        LatentDiffRegressor(**{**FAST, "missing": "refuse"}).fit(X, y)


def test_work_dir_keeps_the_networks_of_each_data_and_settings(tmp_path, data):
    X, y = data
    first = LatentDiffRegressor(**FAST, work_dir=tmp_path).fit(X, y)
    again = LatentDiffRegressor(**FAST, work_dir=str(tmp_path)).fit(X, y)
    assert again.info_.get("network_loaded_from_checkpoint") and not first.info_.get(
        "network_loaded_from_checkpoint"
    )
    np.testing.assert_array_equal(again.predict(X), first.predict(X))
    LatentDiffRegressor(**FAST, work_dir=tmp_path, random_state=1).fit(X, y)  # no collision
    assert len(list(tmp_path.iterdir())) == 2


def test_cross_val_score_and_grid_search(data):
    X, y = data
    scores = cross_val_score(LatentDiffRegressor(**FAST), X, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()
    grid = GridSearchCV(LatentDiffRegressor(**FAST), {"random_state": [0, 1]}, cv=2).fit(X, y)
    assert grid.best_params_["random_state"] in (0, 1)
    assert grid.predict(X).shape == (len(X),)


def test_save_and_load_predict_exactly_the_same(tmp_path, data):
    X, y = data
    est = LatentDiffRegressor(**FAST_LATENTDIFF).fit(X, y)
    assert est.info_["n_synthetic_requested"] > 0
    est.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [MODEL_JSON, MODEL_WEIGHTS]
    meta = json.loads((tmp_path / "m" / MODEL_JSON).read_text())
    assert meta["method"] == "latentdiff" and meta["encoder"]["name"] == "mlp"
    assert meta["encoding"]["median"]["x2"] == est.encoding_.median["x2"]
    back = LatentDiffRegressor.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    assert back.get_params() == {**est.get_params(), **{k: back.get_params()[k]
                                 for k in ("train", "sampler", "head")}}  # fmt: skip
    assert back.validation_ == est.validation_ and back.info_["n_synthetic_requested"] > 0


def test_a_folder_that_is_not_a_saved_model_is_refused(tmp_path, fitted):
    with pytest.raises(FileNotFoundError, match="model folder not found"):
        LatentDiffRegressor.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a saved latentdiff model"):
        LatentDiffRegressor.load(tmp_path / "empty")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / MODEL_JSON).write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a saved latentdiff model"):
        LatentDiffRegressor.load(tmp_path / "other")
    fitted.save(tmp_path / "m")
    (tmp_path / "m" / MODEL_WEIGHTS).write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        LatentDiffRegressor.load(tmp_path / "m")


# --- the command line ---------------------------------------------------------------------------


def _cli(args, capsys):
    from latentdiff.cli import main

    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_fit_and_predict_end_to_end(tmp_path, capsys):
    df = _gappy().assign(row=lambda d: [f"r{i}" for i in range(len(d))])
    df.to_csv(tmp_path / "train.csv", index=False)
    fast = ["--methods", "vanilla", "--epochs", "3", "--batch-size", "64", "--eval-bins", "10",
            "--encoder-option", "hidden_dims=[16]", "--no-progress"]  # fmt: skip
    model = tmp_path / "model"
    args = ["fit", "--data", tmp_path / "train.csv", "--target", "target", "--out", model,
            "--id-column", "row", *fast]  # fmt: skip
    rc, out, err = _cli(args, capsys)
    assert rc == 0, err
    assert "| many |" in out and "imputed in 'x2'" in out and "model saved in" in out
    rc, _, err = _cli(args, capsys)  # a saved model is not replaced unless told
    assert rc == 2 and "--overwrite" in err

    new = _gappy(40, seed=1).assign(row=lambda d: [f"n{i}" for i in range(len(d))])
    new.drop(columns="target").to_csv(tmp_path / "new.csv", index=False)  # no target: fine
    rc, _, err = _cli(["predict", model, "--data", tmp_path / "new.csv", "--out",
                       tmp_path / "p.csv", "--id-column", "row"], capsys)  # fmt: skip
    assert rc == 0, err
    pred = pd.read_csv(tmp_path / "p.csv")
    assert list(pred.columns) == ["row", "prediction"] and list(pred["row"]) == list(new["row"])
    want = LatentDiffRegressor.load(model).predict(new.drop(columns=["target", "row"]))
    np.testing.assert_allclose(pred["prediction"], want, rtol=1e-12)
    new.to_csv(tmp_path / "with_target.csv", index=False)  # the target column is ignored
    rc, _, err = _cli(["predict", model, "--data", tmp_path / "with_target.csv", "--out",
                       tmp_path / "p2.csv", "--id-column", "row"], capsys)  # fmt: skip
    assert rc == 0, err
    assert pd.read_csv(tmp_path / "p2.csv").equals(pred)

    base = new.drop(columns="target")
    bad = {
        "missing": (base.drop(columns="x1"), "column 'x1' is missing"),
        "extra": (base.assign(other=1), "column 'other' of .* is not a feature"),
        "text": (base.assign(x1=["oops"] + [1.0] * 39), "'x1' is numeric but .* 'oops'"),
        "unseen": (base.assign(kind=["teal"] + ["low"] * 39), "'kind' has a category .* 'teal'"),
        "no-id": (base.drop(columns="row"), "--id-column 'row' is not a column"),
    }
    for name, (frame, msg) in bad.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        rc, _, err = _cli(["predict", model, "--data", tmp_path / f"{name}.csv", "--out",
                           tmp_path / f"{name}-p.csv", "--id-column", "row"], capsys)  # fmt: skip
        assert rc == 2, name
        assert err.count("\n") == 1 and err.startswith("latentdiff: error:"), err
        import re

        assert re.search(msg, err), (name, err)
        assert not (tmp_path / f"{name}-p.csv").exists()
    rc, _, err = _cli(["predict", tmp_path, "--data", tmp_path / "new.csv", "--out",
                       tmp_path / "p3.csv"], capsys)  # fmt: skip
    assert rc == 2 and "is not a saved latentdiff model" in err


def test_cli_fit_refuses_bad_options_before_reading_data(tmp_path, capsys):
    from latentdiff import LatentDiffRegressor as Exported
    from latentdiff.cli import FIT_METHOD

    assert FIT_METHOD == DEFAULT_METHOD and Exported is LatentDiffRegressor
    rc, _, err = _cli(["bench", "--dataset", "stsb-dir", "--data", tmp_path, "--missing",
                       "refuse", "--out", tmp_path / "r"], capsys)  # fmt: skip
    assert rc == 2 and "--missing (missing = 'refuse') does not apply to stsb-dir" in err
    base = ["fit", "--data", tmp_path / "absent.csv", "--target", "y", "--out", tmp_path / "m"]
    for extra, msg in [
        (["--methods", "vanilla,lds"], "fit trains one method"),
        (["--methods", "vanilla", "--missing", "drop"], "--missing: data.missing = 'drop'"),
        (["--methods", "vanilla", "--ratio", "0.5"], "--ratio"),
        (["--methods", "vanilla"], "data file not found"),
    ]:
        rc, _, err = _cli([*base, *extra], capsys)
        assert rc == 2 and msg in err, (extra, err)


def test_scikit_learn_estimator_checks():
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            LatentDiffRegressor(**{**FAST, "eval_bins": 2}),
            on_fail=None,
            # a 3-epoch network of 16 units is kept small for speed, not to fit sklearn's toy
            # data to R^2 > 0.5
            expected_failed_checks={"check_regressors_train": "tiny training for speed"},
        )
    failed = [(r["check_name"], r["exception"]) for r in results if r["status"] == "failed"]
    assert failed == []
