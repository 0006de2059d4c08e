"""Checkpoints in safetensors with JSON metadata: round trip, and refusal of corrupted, foreign
and pickled files (issue 4)."""

import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from latentdiff.io import load_tensors, save_tensors


def test_round_trip_is_exact(tmp_path):
    t = {"w": torch.randn(3, 4), "b": torch.arange(5)}
    save_tensors(tmp_path / "m.safetensors", t, {"epoch": 3, "config": {"lr": 1e-3}})
    got, meta = load_tensors(tmp_path / "m.safetensors")
    assert meta == {"epoch": 3, "config": {"lr": 1e-3}}
    for k in t:
        assert torch.equal(got[k], t[k])
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed away


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))  # creates a file when unpickled


def test_bad_checkpoints_are_refused_and_nothing_runs(tmp_path):
    path = tmp_path / "m.safetensors"
    save_tensors(path, {"w": torch.ones(100)}, {"epoch": 1})
    data = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_tensors(tmp_path / "trunc.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_tensors(tmp_path / "junk.safetensors")
    save_file({"w": torch.ones(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ValueError, match="not one latentdiff wrote"):
        load_tensors(tmp_path / "foreign.safetensors")
    marker = tmp_path / "pwned"
    (tmp_path / "evil.safetensors").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError):
        load_tensors(tmp_path / "evil.safetensors")
    assert not marker.exists()  # the pickle was never unpickled
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_tensors(tmp_path / "none.safetensors")
    np.testing.assert_array_equal(load_tensors(path)[0]["w"].numpy(), np.ones(100))
