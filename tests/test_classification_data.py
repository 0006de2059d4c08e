"""The long-tailed classification protocol: profile counts by hand, balanced held-out sets,
regions, loaders and bad input."""

import numpy as np
import pandas as pd
import pytest

from latentdiff.classification.loaders import load_class_table, load_digits_lt, read_mnist
from latentdiff.classification.longtail import (
    class_regions,
    encode_classes,
    long_tail_counts,
    make_long_tailed,
)
from latentdiff.classification.scores import classification_metrics, records


def test_profile_counts_by_hand():
    # 1000 * 100^(-c/4): 1000, 316.2, 100, 31.6, 10 -> floored (Cao et al.'s int())
    assert long_tail_counts(1000, 5, 100).tolist() == [1000, 316, 100, 31, 10]
    # IF 10 over 3 classes: 500, 500 / sqrt(10) = 158.1, 50
    assert long_tail_counts(500, 3, 10).tolist() == [500, 158, 50]
    assert long_tail_counts(7, 4, 1).tolist() == [7, 7, 7, 7]
    assert long_tail_counts(3, 2, 100).tolist() == [3, 1]  # at least one row


def test_regions_by_training_count():
    assert class_regions([101, 100, 20, 19, 1]).tolist() == ["many", "medium", "medium", "few",
                                                             "few"]  # fmt: skip


def _toy(n_per_class=(60, 60, 60), labels=("b", "a", "c")):
    y = np.concatenate([[lab] * n for lab, n in zip(labels, n_per_class, strict=True)])
    X = np.arange(y.size, dtype=np.float32)[:, None]
    return X, y


def test_make_long_tailed_counts_and_balance():
    X, y = _toy()
    ds = make_long_tailed(X, y, name="toy", imbalance_factor=4, n_test=10, n_val=5)
    # classes sorted as read: a, b, c; 45 left per class; 45 * 4^(-c/2) = 45, 22.5, 11.25
    assert ds.classes.tolist() == ["a", "b", "c"]
    assert ds.train_counts.tolist() == [45, 22, 11]
    assert np.bincount(ds.test.y).tolist() == [10, 10, 10]
    assert np.bincount(ds.val.y).tolist() == [5, 5, 5]
    # no row in two parts, and every row keeps its own label
    rows = [ds.train.X[:, 0], ds.val.X[:, 0], ds.test.X[:, 0]]
    assert len(np.unique(np.concatenate(rows))) == sum(r.size for r in rows)
    for split in (ds.train, ds.val, ds.test):
        assert (ds.classes[split.y] == y[split.X[:, 0].astype(int)]).all()


def test_make_long_tailed_is_seeded():
    X, y = _toy()
    a = make_long_tailed(X, y, name="t", imbalance_factor=4, n_test=10, n_val=5, random_state=1)
    b = make_long_tailed(X, y, name="t", imbalance_factor=4, n_test=10, n_val=5, random_state=1)
    c = make_long_tailed(X, y, name="t", imbalance_factor=4, n_test=10, n_val=5, random_state=2)
    assert np.array_equal(a.train.X, b.train.X)
    assert not np.array_equal(a.test.X, c.test.X)


def test_keep_profile_as_read():
    X, y = _toy((40, 20, 30), ("x", "y", "z"))
    ds = make_long_tailed(X, y, name="t", imbalance_factor=None, n_test=5, n_val=3)
    assert ds.train_counts.tolist() == [32, 12, 22]


def test_integer_labels_kept_as_read():
    classes, codes = encode_classes(np.array([3.0, 1.0, 3.0, 7.0]))
    assert classes.tolist() == [1, 3, 7] and codes.tolist() == [1, 0, 1, 2]


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([1, 1, 1, 1]), "at least 2 classes"),
        (np.array([0.5, 1.0, 2.0]), "not a whole number"),
        (np.array(["a", None, "b"], dtype=object), "missing"),
    ],
)
def test_bad_labels_refused(y, match):
    with pytest.raises(ValueError, match=match):
        encode_classes(y)


def test_class_with_one_sample_refused():
    X, y = _toy((60, 1, 60), ("a", "lonely", "c"))
    with pytest.raises(ValueError, match=r"'lonely' \(1 row\)"):
        make_long_tailed(X, y, name="t", imbalance_factor=10, n_test=10, n_val=5)


def test_n_max_too_large_refused():
    X, y = _toy()
    with pytest.raises(ValueError, match="n_max = 50"):
        make_long_tailed(X, y, name="t", imbalance_factor=10, n_test=10, n_val=5, n_max=50)


def test_digits_lt():
    ds = load_digits_lt(imbalance_factor=10, n_test=30, n_val=10)
    # the fewest digits (digit 8: 174 rows) leave 134 rows: 134 * 10^(-c/9)
    assert ds.train_counts.tolist() == [134, 103, 80, 62, 48, 37, 28, 22, 17, 13]
    assert ds.region_of_class.tolist() == ["many"] * 2 + ["medium"] * 6 + ["few"] * 2
    assert ds.train.X.shape == (544, 64)


def test_csv_with_string_classes(tmp_path):
    rng = np.random.default_rng(0)
    n = [50, 30, 12]
    lab = np.repeat(["cat", "dog", "emu"], n)
    df = pd.DataFrame({"w": rng.normal(size=lab.size), "colour": rng.choice(["r", "g"], lab.size),
                       "animal": lab})  # fmt: skip
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    ds = load_class_table(path, "animal", n_test=4, n_val=2)
    assert ds.classes.tolist() == ["cat", "dog", "emu"]
    assert ds.train_counts.tolist() == [44, 24, 6]
    assert ds.train.X.dtype == np.float32 and ds.train.X.shape[0] == 74
    df.loc[df.animal == "emu", "animal"] = "cat"
    df.loc[0, "animal"] = "emu"  # one emu left
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"'emu' \(1 row\)"):
        load_class_table(path, "animal", n_test=4, n_val=2)
    df["animal"] = "cat"
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match="at least 2 classes"):
        load_class_table(path, "animal")


def test_mnist_reader(tmp_path):
    import gzip

    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
    head = (0x0803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (2, 28, 28))
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(head + images.astype(np.uint8).tobytes())
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write((0x0801).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes([7, 2]))
    X, y = read_mnist(tmp_path)
    assert y.tolist() == [7, 2] and X.shape == (2, 28, 28)
    assert X[0, 0, 5] == pytest.approx(5 / 255)


def test_metrics_by_hand():
    regions = np.array(["many", "medium", "few"], dtype=object)
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 0, 2])
    s = classification_metrics(y_true, y_pred, regions)
    assert s["all"]["accuracy"] == pytest.approx(4 / 6)
    # class 0: precision 2/4, recall 1 -> F1 2/3; class 1: P 1, R 1/2 -> 2/3; class 2: 2/3
    assert s["all"]["macro_f1"] == pytest.approx(2 / 3)
    assert s["many"] == pytest.approx({"accuracy": 1.0, "macro_f1": 2 / 3})
    assert s["few"]["accuracy"] == pytest.approx(0.5)
    rows = records("toy", "ce", 0, s)
    assert len(rows) == 8 and rows[0]["region"] == "all"


def test_metrics_empty_region_is_none():
    s = classification_metrics([0, 1], [0, 1], np.array(["many", "many"], dtype=object))
    assert s["few"] == {"accuracy": None, "macro_f1": None}
