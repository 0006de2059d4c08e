"""The FDS layer (seed 004, sec. 3.2) by hand and against the DIR reference."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentdiff.methods.fds import FDS, calibrate_mean_var

GOLDEN = Path(__file__).parent / "golden" / "fds.json"


def test_calibration_recolours_mean_and_variance():
    z = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    m1, v1 = torch.tensor([2.0, 3.0]), torch.tensor([4.0, 4.0])
    m2, v2 = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 400.0])
    out = calibrate_mean_var(z, m1, v1, m2, v2)
    # dim 0: factor 1/4 -> scale 1/2; dim 1: factor 100 clamped to 10 -> sqrt(10)
    expect = torch.stack([(z[:, 0] - 2) * 0.5 + 1, (z[:, 1] - 3) * 10**0.5], 1)
    torch.testing.assert_close(out, expect)
    # zero-variance dimension left alone
    out = calibrate_mean_var(z, m1, torch.tensor([0.0, 4.0]), m2, v2)
    torch.testing.assert_close(out[:, 0], z[:, 0])


def test_running_statistics_and_smoothing_by_hand():
    fds = FDS(2, 5, ks=3, sigma=1.0, momentum=0.9)
    z = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    b = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    fds.update_running_stats(z, b, epoch=0)  # first update: the epoch's statistics outright
    torch.testing.assert_close(fds.running_mean[1], z[2:4].mean(0))
    torch.testing.assert_close(fds.running_var[1], z[2:4].var(0))
    fds.update_running_stats(z + 10, b, epoch=1)  # momentum 0.9 afterwards
    torch.testing.assert_close(fds.running_mean[1], z[2:4].mean(0) + 1.0)
    fds.update_last_epoch_stats(1)
    k = fds.kernel  # normalised by its sum
    assert float(k.sum()) == pytest.approx(1.0)
    m = fds.running_mean[:, 0]
    padded = torch.cat([m[1:2], m, m[-2:-1]])  # reflect padding
    expect = torch.stack([padded[i : i + 3] @ k for i in range(5)])
    torch.testing.assert_close(fds.smoothed_mean_last_epoch[:, 0], expect)
    # before start_smooth nothing changes; afterwards a batch is re-coloured, input untouched
    batch = torch.randn(4, 2)
    assert fds.smooth(batch, torch.tensor([0, 1, 2, 3]), epoch=0) is batch
    before = batch.clone()
    out = fds.smooth(batch, torch.tensor([0, 1, 2, 3]), epoch=1)
    torch.testing.assert_close(batch, before)
    assert not torch.allclose(out, batch)


def test_fds_rejects_bad_shapes():
    fds = FDS(3, 10)
    with pytest.raises(ValueError, match="shape"):
        fds.update_running_stats(torch.zeros(4, 2), torch.zeros(4), 0)
    with pytest.raises(ValueError, match="bins"):
        FDS(3, 2, ks=5)


def _run_golden_recipe(fds):
    labels = np.arange(60) % 10
    for e in range(3):
        feats = np.random.default_rng(100 + e).normal(size=(60, 3)) * (1 + labels[:, None] / 5)
        feats = (feats + labels[:, None]).astype(np.float32)
        fds.update_last_epoch_stats(e)
        fds.update_running_stats(torch.from_numpy(feats), torch.from_numpy(labels), e)
    batch = np.random.default_rng(7).normal(size=(8, 3)).astype(np.float32)
    bl = torch.tensor([0, 1, 2, 3, 4, 5, 8, 9])
    return fds.smooth(torch.from_numpy(batch), bl, epoch=2).numpy()


@pytest.mark.parametrize("alias", [False, True])
def test_against_the_dir_reference(alias):
    """YyzHarry/imbalanced-regression's FDS (agedb-dir/fds.py, commit a6fdc45) run out of tree on
    the recipe above; source and notes in tests/golden/fds.json.

    The statistics and their smoothing agree. The calibration differs by a reference quirk:
    there ``running_mean_last_epoch`` *is* ``running_mean`` (same tensor), so eq. 5 re-colours
    from the newest statistics to the smoothing of the previous epoch's. By default we snapshot
    both (re-colour from an epoch's statistics to their own smoothing, as eq. 5 reads);
    ``alias_last_epoch=True`` reproduces the reference.
    """
    out = json.loads(GOLDEN.read_text())["outputs"]
    fds = FDS(3, 10, start_update=0, start_smooth=1, kernel="gaussian", ks=5, sigma=2.0,
              alias_last_epoch=alias)  # fmt: skip
    got = _run_golden_recipe(fds)
    for name in ("running_mean", "running_var", "smoothed_mean_last_epoch",
                 "smoothed_var_last_epoch", "num_samples_tracked"):  # fmt: skip
        np.testing.assert_allclose(getattr(fds, name).numpy(), out[name], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fds.kernel.numpy(), out["kernel_window"], rtol=1e-6)
    if alias:
        np.testing.assert_allclose(got, out["smooth_output"], rtol=1e-5, atol=1e-6)
    else:
        assert not np.allclose(got, out["smooth_output"], rtol=1e-3)
