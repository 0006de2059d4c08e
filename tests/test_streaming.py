"""Streaming generation (LatentDiffSampler.generate_to / stream_dir) and stage 7 reading the
synthetic features from disk per batch: the same rows and the same head as in memory."""

import copy

import numpy as np
import pytest
import torch
from conftest import FAST_DIFFUSION

from latentdiff.encoders import make_encoder
from latentdiff.featurefile import FeatureFile, FeatureWriter
from latentdiff.pipeline import fit_latentdiff, fit_vanilla
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import HeadConfig, SamplerConfig, TrainConfig
from latentdiff.training import RegressionModel, fit_head, predict_from_features


def _data(n=400, m=6, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.gamma(2.0, 1.0, n)
    Z = (rng.normal(size=(n, m)) + y[:, None]).astype(np.float32)
    return Z, y


def _sampler(**kw):
    return LatentDiffSampler(n_bins=6, ratio=3.0, diffusion=FAST_DIFFUSION, random_state=0, **kw)


@pytest.fixture(scope="module")
def fitted():
    """A sampler fitted once for the tests that only generate (a deep copy each)."""
    Z, y = _data()
    return Z, y, _sampler().fit(Z, y)


def test_feature_file_is_a_npy_file_of_the_appended_rows(tmp_path):
    rows = np.arange(30, dtype=np.float32).reshape(10, 3)
    with FeatureWriter(tmp_path / "z.npy", 3) as w:
        w.append(rows[:4])
        w.append(rows[4:4])
        w.append(rows[4:])
    np.testing.assert_array_equal(np.load(tmp_path / "z.npy"), rows)
    f = FeatureFile(tmp_path / "z.npy")
    assert f.shape == (10, 3) and len(f) == 10
    np.testing.assert_array_equal(f.rows([9, 0, 9]), rows[[9, 0, 9]])
    with pytest.raises(ValueError, match="width 3"):
        FeatureWriter(tmp_path / "w.npy", 3).append(rows[:, :2])
    with pytest.raises(ValueError, match=".npy"):
        FeatureWriter(tmp_path / "z.bin", 3)


def test_a_failed_write_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError), FeatureWriter(tmp_path / "z.npy", 2) as w:
        w.append(np.zeros((3, 2)))
        raise RuntimeError("generation failed")
    assert not (tmp_path / "z.npy").exists()


@pytest.mark.parametrize("chunk", [1, 5000])
def test_generate_to_equals_generate(tmp_path, chunk, fitted):
    s = copy.deepcopy(fitted[2])
    Za, ya = s.generate()
    report = s.report_
    f, yb = s.generate_to(tmp_path / "syn.npy", chunk_size=chunk)
    assert Za.shape[0] > 100 and 0 < s.acceptance_rate_ < 1  # the gate rejected some
    np.testing.assert_array_equal(np.asarray(f), Za)
    np.testing.assert_array_equal(yb, ya)
    assert s.report_ == report
    with pytest.raises(ValueError, match="chunk_size"):
        s.generate_to(tmp_path / "x.npy", chunk_size=0)


def test_stream_dir_makes_generate_write_a_file(tmp_path, fitted):
    s = copy.deepcopy(fitted[2])
    Za, ya = s.generate()
    Zs, ys = s.set_params(stream_dir=str(tmp_path / "s"), stream_chunk=64).generate()
    assert isinstance(Zs, FeatureFile) and Zs.path.parent == tmp_path / "s"
    np.testing.assert_array_equal(np.asarray(Zs), Za)
    np.testing.assert_array_equal(ys, ya)
    Zs.remove()
    assert not any((tmp_path / "s").iterdir())
    assert SamplerConfig(stream_dir="x").stream_chunk == 4096  # the setting and its default


def test_stream_dir_without_room_is_refused_before_training(tmp_path, monkeypatch):
    import shutil

    Z, y = _data()
    usage = shutil.disk_usage(tmp_path)._replace(free=1000)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage)
    with pytest.raises(ValueError, match="GiB free"):
        _sampler(stream_dir=str(tmp_path)).fit(Z, y)


def _head(Zs, ys, Z, y):
    torch.manual_seed(0)
    model = RegressionModel(torch.nn.Identity(), Z.shape[1], float(y.mean()), float(y.std()))
    head = HeadConfig(epochs=3, batch_size=32, patience=None, mix_schedule="constant")
    result = fit_head(model, Z, y, Zs, ys, Z[:50], y[:50], head, random_state=0, progress=False)
    return model, result


def test_head_from_a_file_equals_head_from_arrays(tmp_path, fitted):
    """Bit-identical: the batches hold the same rows in the same order either way (only
    where they are gathered from differs)."""
    Z, y, s = fitted
    s = copy.deepcopy(s)
    f, ys = s.generate_to(tmp_path / "syn.npy", chunk_size=128)
    a, ra = _head(np.asarray(f).copy(), ys, Z, y)
    b, rb = _head(f, ys, Z, y)
    for p, q in zip(a.head.parameters(), b.head.parameters(), strict=True):
        assert torch.equal(p, q)
    assert ra.history == rb.history
    in_memory = predict_from_features(a, np.asarray(f).copy())
    np.testing.assert_array_equal(predict_from_features(a, f), in_memory)


def test_pipeline_with_stream_dir_equals_in_memory(tiny_dataset, tmp_path):
    v = fit_vanilla(tiny_dataset, make_encoder("mlp", hidden_dims=(16,)),
                    TrainConfig(epochs=3, batch_size=64), 0, False)  # fmt: skip
    head = HeadConfig(epochs=3, patience=None)
    a = fit_latentdiff(v, _sampler(), head, 0, False)
    b = fit_latentdiff(v, _sampler(stream_dir=str(tmp_path)), head, 0, False)
    assert isinstance(b.Z_syn, FeatureFile) and a.n_synthetic == b.n_synthetic > 0
    np.testing.assert_array_equal(a.predict("test"), b.predict("test"))
    assert a.consistency() == b.consistency()
    b.Z_syn.remove()


def test_generate_to_equals_generate_for_an_untrained_generator(tmp_path):
    """gaussian draws all its rows at once (ConditionalGenerator.iter_sample's default): the
    file still holds generate()'s rows."""
    Z, y = _data()
    s = LatentDiffSampler(n_bins=6, ratio=2.0, generator="gaussian", random_state=0).fit(Z, y)
    Za, ya = s.generate()
    f, yb = s.generate_to(tmp_path / "g.npy", chunk_size=100)
    np.testing.assert_array_equal(np.asarray(f), Za)
    np.testing.assert_array_equal(yb, ya)
