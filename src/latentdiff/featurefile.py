"""Synthetic features larger than memory: one ``.npy`` file written in chunks and read in
batches (:meth:`LatentDiffSampler.generate_to`, stage 7's ``fit_head``).

Why ``.npy`` (and not parquet): the rows are fixed-width float32 vectors read back in random
order, one training batch at a time. A ``.npy`` file is the array's bytes after a short header,
so row i is at a known offset and any batch of rows is a gather of reads at known offsets, with no
dependency and no decoding; numpy opens it (``np.load(path, mmap_mode="r")``). Parquet stores
columns in compressed row groups: 2,048 columns per row and a decode of a whole row group for
one random row.

Writing appends each chunk with ``write`` (no memory map: dirty mapped pages would count in the
writer's resident memory); the header reserves :data:`HEADER_BYTES`, and the final row count is
written into it when the file is closed, so the number of accepted rows need not be known in
advance. Reading gathers rows with ``pread`` into a new array, not through a memory map: a
mapped file's pages count in the reader's resident set as they are touched (and the kernel maps
64 kB around each fault), so an epoch over an 8 GB file would show as gigabytes of RSS; read,
they stay in the page cache only.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np

#: bytes the header takes (numpy's own headers are multiples of 64 bytes; room for any shape)
HEADER_BYTES = 128
_MAGIC = b"\x93NUMPY\x01\x00"


def _header(n_rows: int, m: int) -> bytes:
    """A version-1.0 ``.npy`` header for a C-ordered little-endian float32 (n_rows, m) array,
    padded with spaces to :data:`HEADER_BYTES`."""
    text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n_rows}, {m}), }}"
    pad = HEADER_BYTES - len(_MAGIC) - 2 - len(text) - 1
    body = (text + " " * pad + "\n").encode("latin1")
    return _MAGIC + len(body).to_bytes(2, "little") + body


class FeatureWriter:
    """Append float32 rows of width ``m`` to a new ``.npy`` file; :meth:`close` writes the row
    count into the header (a context manager: an exception removes the partial file)."""

    def __init__(self, path: str | Path, m: int) -> None:
        self.path, self.m, self.n_rows = Path(path), int(m), 0
        if self.path.suffix != ".npy":
            raise ValueError(f"{self.path}: synthetic features are written to a .npy file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close)
        self._file.write(_header(0, self.m))

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype="<f4")
        if rows.ndim != 2 or rows.shape[1] != self.m:
            raise ValueError(f"rows of shape {rows.shape} appended to a file of width {self.m}")
        self._file.write(rows.tobytes())
        self.n_rows += rows.shape[0]

    def close(self) -> Path:
        if not self._file.closed:
            self._file.seek(0)
            self._file.write(_header(self.n_rows, self.m))
            self._file.close()
        return self.path

    def __enter__(self) -> FeatureWriter:
        return self

    def __exit__(self, kind, value, tb) -> None:
        self.close()
        if kind is not None:
            self.path.unlink(missing_ok=True)


def _shape(path: Path) -> tuple[int, int, int]:
    """(rows, width, offset of the data) of a float32 ``.npy`` file."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else (np.lib.format.read_array_header_2_0)
        )
        shape, fortran, dtype = read(f)
        offset = f.tell()
    if dtype != np.dtype("<f4") or fortran or len(shape) != 2:
        raise ValueError(f"{path}: not a C-ordered float32 matrix (dtype {dtype}, shape {shape})")
    return int(shape[0]), int(shape[1]), offset


class FeatureFile:
    """Read-only rows of a ``.npy`` float32 matrix on disk, gathered per batch.

    ``shape``, ``len()`` and ``rows(idx)`` (a copy, float32) are what stage 7 uses;
    ``np.asarray(file)`` maps the whole matrix (use it only where it fits in memory)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        n, m, self._offset = _shape(self.path)
        self.shape = (n, m)
        self.dtype = np.dtype(np.float32)
        self._map: mmap.mmap | None = None
        self._file = None

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"FeatureFile({str(self.path)!r}, shape={self.shape})"

    def rows(self, idx) -> np.ndarray:
        """Rows ``idx`` (non-negative, any order, repeats allowed) as a new (len(idx), m)
        float32 array, read with ``pread``: a contiguous range in one read, otherwise one read
        per row. Nothing is mapped, so what was read stays out of the process's resident set
        (the kernel's page cache keeps it)."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        n, m = self.shape
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"row indices must be in [0, {n}) for {self}")
        out = np.empty((idx.size, m), dtype=np.float32)
        if not idx.size:
            return out
        if self._file is None:
            self._file = open(self.path, "rb", buffering=0)  # noqa: SIM115 (closed in remove)
        row = 4 * m
        if idx.size == 1 or bool(np.all(np.diff(idx) == 1)):  # a range: one read
            self._read_into(out, self._offset + int(idx[0]) * row)
        else:
            for i, k in enumerate(idx.tolist()):
                self._read_into(out[i], self._offset + k * row)
        return out

    def _read_into(self, dest: np.ndarray, offset: int) -> None:
        view = memoryview(dest).cast("B")
        done = 0
        while done < view.nbytes:  # a read may return less than asked (over 2 GB, signals)
            got = _pread_into(self._file, view[done:], offset + done)
            if got <= 0:
                raise OSError(f"{self.path} ended before row data at byte {offset + done}")
            done += got

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        n, m = self.shape
        if n == 0:
            a = np.empty((0, m), np.float32)
        else:
            if self._map is None:
                with open(self.path, "rb") as f:
                    self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            a = np.frombuffer(self._map, np.float32, n * m, self._offset).reshape(n, m)
        return a if dtype is None else a.astype(dtype, copy=False)

    def remove(self) -> None:
        """Delete the file (closing what reads it first)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._map is not None:
            self._map.close()
            self._map = None
        self.path.unlink(missing_ok=True)


def _pread_into(file, view: memoryview, offset: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(file.fileno(), [view], offset)
    file.seek(offset)  # platforms without preadv
    return file.readinto(view)
