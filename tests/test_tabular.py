import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from latentdiff.binning import Bins
from latentdiff.data.base import balanced_split
from latentdiff.data.registry import load_dataset
from latentdiff.data.tabular import (
    TableEncoding,
    dataset_from_frame,
    load_california_housing,
    load_diamonds,
    load_feature_arrays,
    load_table,
)


def test_balanced_split_takes_min_n_over_3_and_cap_per_bin():
    y = np.r_[np.zeros(300), np.full(30, 1.0), np.full(4, 2.0), np.full(2, 3.0)]
    bins = Bins.from_range(0, 4, n_bins=4)
    tr, va, te = balanced_split(y, bins, cap=30, random_state=0)
    assert np.bincount(bins.assign(y[va]), minlength=4).tolist() == [30, 10, 1, 0]
    assert np.bincount(bins.assign(y[te]), minlength=4).tolist() == [30, 10, 1, 0]
    assert len(set(tr) | set(va) | set(te)) == y.size and not set(tr) & set(va)


def test_encoding_standardises_numbers_and_one_hots_text_with_train_statistics():
    train = pd.DataFrame({"a": [1.0, 3.0], "b": ["x", "y"]})
    enc = TableEncoding.fit(train)
    out = enc.transform(pd.DataFrame({"a": [2.0], "b": ["z"]}))  # unseen category: all zeros
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.0]])
    assert enc.feature_names == ["a", "b=x", "b=y"]


def test_mixed_column_and_missing_values_are_named():
    with pytest.raises(ValueError, match="'m' mixes numbers and text"):
        TableEncoding.fit(pd.DataFrame({"m": ["1", "2", "abc"]}))
    with pytest.raises(ValueError, match="'n' has 1 missing value.*refused"):
        TableEncoding.fit(pd.DataFrame({"n": [1.0, np.nan]}), missing="refuse")
    with pytest.raises(ValueError, match="'t' has 1 missing value.*refused"):
        TableEncoding.fit(pd.DataFrame({"t": ["a", None]}), missing="refuse")
    enc = TableEncoding.fit(pd.DataFrame({"n": [1.0, 2.0]}), missing="refuse")
    with pytest.raises(ValueError, match="'n' has 1 missing value.*refused"):
        enc.transform(pd.DataFrame({"n": [np.nan]}))  # the fitted rule holds for new rows too
    with pytest.raises(ValueError, match="'n' has 1 infinite"):
        TableEncoding.fit(pd.DataFrame({"n": [1.0, np.inf]}))  # imputed never, refused always
    with pytest.raises(ValueError, match="'n' has no value in the training rows"):
        TableEncoding.fit(pd.DataFrame({"n": [np.nan, np.nan]}))
    with pytest.raises(ValueError, match="missing = 'drop'"):
        TableEncoding.fit(pd.DataFrame({"n": [1.0]}), missing="drop")


def test_missing_values_are_imputed_from_the_training_rows():
    import json

    train = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0], "b": ["x", None, "y", "x"]})
    enc = TableEncoding.fit(train)
    assert enc.median == {"a": 3.0} and enc.mean == {"a": pytest.approx(14 / 3)}
    assert enc.feature_names == ["a", "b=x", "b=y", "b=<missing>"]
    new = pd.DataFrame({"a": [np.nan, "2"], "b": [np.nan, "y"]})
    out = enc.transform(new)
    np.testing.assert_allclose(out[:, 0], (np.array([3.0, 2.0]) - enc.mean["a"]) / enc.std["a"],
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(out[:, 1:], [[0, 0, 1], [0, 1, 0]])
    assert enc.missing_counts(new) == {"a": 1, "b": 1}
    with pytest.raises(ValueError, match="'a' is numeric but has 1 value.* 'abc'"):
        enc.transform(pd.DataFrame({"a": ["abc"], "b": ["x"]}))  # text is not a gap
    assert enc.unseen_categories(pd.DataFrame({"a": [1.0], "b": ["z"]})) == {"b": ["z"]}
    back = TableEncoding.from_dict(json.loads(json.dumps(enc.to_dict())))
    assert back == enc
    np.testing.assert_array_equal(back.transform(new), out)
    # a text column without gaps in training has no <missing> level: a gap encodes as zeros
    enc2 = TableEncoding.fit(pd.DataFrame({"b": ["x", "y"]}))
    np.testing.assert_array_equal(enc2.transform(pd.DataFrame({"b": [None]})), [[0, 0]])


def test_imputed_values_are_counted_per_column_and_split(tmp_path, tiny_frame):
    df = tiny_frame.copy()
    df.loc[::10, "x2"] = np.nan
    df.loc[::25, "kind"] = None
    ds = dataset_from_frame(df, "target", eval_n_bins=10, cap=10)
    counts = ds.info["imputed"]
    assert set(counts) == {"x2", "kind"} and set(counts["x2"]) == {"train", "val", "test"}
    assert sum(counts["x2"].values()) == 60 and sum(counts["kind"].values()) == 24
    assert np.isfinite(ds.train.X).all() and np.isfinite(ds.test.X).all()
    assert "imputed" in ds.summary()
    assert "imputed" not in dataset_from_frame(tiny_frame, "target", eval_n_bins=10).info
    df.to_csv(tmp_path / "gaps.csv", index=False)
    with pytest.raises(ValueError, match="'x2' has 60 missing value"):
        load_dataset("csv", str(tmp_path / "gaps.csv"), target="target", missing="refuse")
    ds2 = load_dataset("csv", str(tmp_path / "gaps.csv"), target="target", missing="impute")
    assert ds2.info["imputed"]["x2"] == load_table(tmp_path / "gaps.csv", "target").info[
        "imputed"]["x2"]  # fmt: skip
    with pytest.raises(ValueError, match="--missing .* does not apply to stsb-dir"):
        load_dataset("stsb-dir", "somewhere", missing="impute")


def test_split_column_is_used(tiny_frame):
    df = tiny_frame.copy()
    df["split"] = np.where(
        np.arange(len(df)) % 5 == 0, "test", np.where(np.arange(len(df)) % 5 == 1, "val", "train")
    )
    ds = dataset_from_frame(df, "target", eval_n_bins=10)
    assert len(ds.test) == (np.arange(len(df)) % 5 == 0).sum()
    df.loc[0, "split"] = "holdout"
    with pytest.raises(ValueError, match="unknown split name"):
        dataset_from_frame(df, "target")


def test_target_errors(tmp_path, tiny_frame):
    p = tmp_path / "t.csv"
    tiny_frame.assign(target=tiny_frame.target.where(tiny_frame.index != 3)).to_csv(p, index=False)
    with pytest.raises(ValueError, match="missing \\(NaN\\)"):
        load_table(p, "target")
    with pytest.raises(KeyError, match="did you mean 'target'"):
        load_table(p, "TARGET")
    with pytest.raises(IsADirectoryError):
        load_table(tmp_path, "target")
    (tmp_path / "head.csv").write_text("a,target\n")
    with pytest.raises(ValueError, match="no rows"):
        load_table(tmp_path / "head.csv", "target")


def test_feature_arrays(tmp_path):
    rng = np.random.default_rng(0)
    arrays = []
    for n in (50, 20, 20):
        arrays += [rng.normal(size=(n, 4)), rng.exponential(size=n)]
    np.save(tmp_path / "x.npy", arrays[0])
    ds = load_feature_arrays(tmp_path / "x.npy", *arrays[1:], eval_n_bins=5)
    assert ds.modality == "features" and ds.train.X.dtype == np.float32
    with pytest.raises(ValueError, match="dimension differs"):
        load_feature_arrays(arrays[0], arrays[1], rng.normal(size=(20, 3)), *arrays[3:])


def test_diamonds_is_embedded_and_long_tailed():
    ds = load_diamonds()
    assert ds.modality == "tabular" and len(ds.train) == 8000
    counts = ds.regions.train_counts
    assert counts[0] > 1000 and counts[-1] < 20  # the skew survives the subsample
    s = ds.summary()["test_region_counts"]
    assert min(s["many"], s["medium"], s["few"]) > 100


@pytest.mark.skipif(not (SHARED_DATA / "california-housing").exists(), reason="shared data absent")
def test_california_housing_from_the_shared_csv():
    ds = load_california_housing(SHARED_DATA / "california-housing" / "california_housing.csv")
    assert len(ds.train) + len(ds.val) + len(ds.test) == 20640
    assert ds.eval_bins.n_bins == 100
    assert ds.summary()["test_region_counts"]["few"] > 0
    ds2 = load_dataset(
        "california-housing",
        str(SHARED_DATA / "california-housing" / "california_housing.csv"),
        regions="latentdiff",
    )
    assert "many > 70" in ds2.regions.description


def test_registry_errors():
    with pytest.raises(ValueError, match="unknown data set"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="csv needs --data"):
        load_dataset("csv")
    with pytest.raises(ValueError, match="regions = 'official' does not apply to diamonds"):
        load_dataset("diamonds", regions="official")


def test_unreadable_file_is_named(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,target\n\xff\xfe\x00\x81,1\n")
    with pytest.raises(ValueError, match="cannot read .*bad.csv"):
        load_table(p, "target")
    q = tmp_path / "bad.parquet"
    q.write_bytes(b"not a parquet file")
    with pytest.raises(ValueError, match="cannot read .*bad.parquet"):
        load_table(q, "target")


def test_written_files_are_whole_and_readable_by_others(tmp_path):
    import json
    import stat

    from latentdiff.io import write_json

    p = write_json(tmp_path / "r.json", {"a": [1, 2]})
    assert json.loads(p.read_text()) == {"a": [1, 2]}
    assert stat.S_IMODE(p.stat().st_mode) & 0o044  # not the 0600 of a bare mkstemp
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]  # no temporary file left
    with pytest.raises(TypeError):
        write_json(tmp_path / "bad.json", {"x": object()})
    assert not (tmp_path / "bad.json").exists()
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]
