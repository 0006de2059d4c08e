"""Long-tailed classification data sets: MNIST-LT from the MNIST IDX files, scikit-learn's
digits, and any CSV / parquet table with a class column (:func:`.protocol.make_long_tailed`)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .longtail import LTDataset, make_long_tailed

MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """An IDX file (LeCun's MNIST format: big-endian magic, dimension sizes, then uint8 data)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    head = int.from_bytes(raw[:4], "big")
    if head != magic:
        raise ValueError(f"{path} is not an IDX file of this kind (magic {head}, want {magic})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} holds {data.size} values, its header says {dims}")
    return data.reshape(dims)


def read_mnist(folder) -> tuple[np.ndarray, np.ndarray]:
    """(images float32 (N, 28, 28) in [0, 1], labels int64 (N,)) from ``folder`` holding the
    t10k IDX files (gzipped)."""
    folder = Path(folder)
    missing = [n for n in MNIST_FILES if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"MNIST files {missing} not found in {folder}")
    images = _read_idx(folder / MNIST_FILES[0], 0x0803)  # (N, 28, 28)
    labels = _read_idx(folder / MNIST_FILES[1], 0x0801)  # (N,)
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)


def load_mnist_lt(
    folder, imbalance_factor: float = 100.0, random_state: int = 0, n_test: int = 100,
    n_val: int = 50,
) -> LTDataset:  # fmt: skip
    """MNIST-LT: the 10,000 MNIST test images split by the protocol: ``n_test`` (100) test and
    ``n_val`` (50) validation images per digit, the long-tailed training set from the rest
    (n_max = the fewest left, 742 for digit 5 at the defaults). Inputs (N, 28, 28) float32."""
    X, y = read_mnist(folder)
    ds = make_long_tailed(X, y, name="mnist-lt", modality="image-array",
                          imbalance_factor=imbalance_factor, n_test=n_test, n_val=n_val,
                          random_state=random_state)  # fmt: skip
    ds.info["source"] = str(folder)
    return ds


def load_digits_lt(
    imbalance_factor: float = 10.0, random_state: int = 0, n_test: int = 30, n_val: int = 10
) -> LTDataset:
    """scikit-learn's bundled 8x8 digits (1,797 rows, 64 pixel features in 0..16), long-tailed."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)  # (N, 64)
    return make_long_tailed(X, d.target, name="digits-lt", imbalance_factor=imbalance_factor,
                            n_test=n_test, n_val=n_val, random_state=random_state)  # fmt: skip


def load_class_table(
    path, target: str, imbalance_factor: float | None = None, random_state: int = 0,
    n_test: int = 20, n_val: int = 10, missing: str = "impute",
) -> LTDataset:  # fmt: skip
    """Any CSV / parquet with a class column ``target`` (read as it is: integers or strings).
    The other columns are features, encoded by the regression mode's
    :class:`latentdiff.data.tabular.TableEncoding` fitted on the training rows (numbers
    standardised, text one-hot). ``imbalance_factor`` None keeps the table's own profile."""
    from ..data.tabular import TableEncoding, read_table

    df = read_table(path)
    if target not in df.columns:
        raise KeyError(f"target column {target!r} not in {path}; columns are {list(df.columns)}")
    col = df[target]
    if col.isna().any():
        raise ValueError(f"class column {target!r} has {int(col.isna().sum())} missing value(s)")
    X = df.drop(columns=[target]).reset_index(drop=True)
    if X.shape[1] == 0:
        raise ValueError(f"{path} has no feature column besides {target!r}")
    ds = make_long_tailed(_Rows(X), col.to_numpy(), name=Path(path).stem,
                          imbalance_factor=imbalance_factor, n_test=n_test, n_val=n_val,
                          random_state=random_state)  # fmt: skip
    enc = TableEncoding.fit(ds.train.X.frame, missing=missing)
    for part in ("train", "val", "test"):
        split = getattr(ds, part)
        split.X = enc.transform(split.X.frame).astype(np.float32)
    ds.info.update(source=str(path), target=target, encoding=enc.to_dict())
    return ds


class _Rows:
    """A DataFrame indexable by an integer array (rows), as :func:`make_long_tailed` needs."""

    def __init__(self, frame):
        self.frame = frame

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, idx):
        return _Rows(self.frame.iloc[idx].reset_index(drop=True))
