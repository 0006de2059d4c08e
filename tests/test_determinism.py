"""Same seed, same machine: bit-identical synthetic features, predictions and metrics on CPU."""

import numpy as np
from conftest import FAST_DIFFUSION

from latentdiff.encoders import make_encoder
from latentdiff.metrics import shot_metrics
from latentdiff.pipeline import fit_latentdiff, fit_vanilla
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import HeadConfig, TrainConfig


def _run(ds, seed):
    v = fit_vanilla(ds, make_encoder("mlp", hidden_dims=(16,)), TrainConfig(epochs=5), seed, False)
    fit = fit_latentdiff(
        v,
        LatentDiffSampler(n_bins=6, ratio=0.5, diffusion=FAST_DIFFUSION),
        HeadConfig(epochs=4),
        seed,
        False,
    )
    pred = fit.predict("test")
    return fit.Z_syn, fit.y_syn, pred, shot_metrics(ds.test.y, pred, ds.regions.of(ds.test.y))


def test_whole_pipeline_is_bit_identical_for_a_seed(tiny_dataset):
    a, b = _run(tiny_dataset, 3), _run(tiny_dataset, 3)
    assert a[0].size > 0
    for x, y in zip(a[:3], b[:3], strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)  # bit for bit, not approximately
    assert a[3] == b[3]
    c = _run(tiny_dataset, 4)
    assert not np.array_equal(a[0], c[0])  # and the seed matters
