"""The speed report: its FLOP count against torch's own counter, the 12.9 M-parameter size,
and a --quick run that writes its JSON and markdown (no timing is asserted)."""

import json

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from latentdiff.cli import main
from latentdiff.flops import DenoiserSize, size_for_parameters
from latentdiff.generators.diffusion import Denoiser
from latentdiff.settings import DiffusionConfig


@pytest.mark.parametrize("m, hidden, blocks, embed", [(16, 32, 2, 8), (40, 24, 3, 6)])
def test_flop_count_equals_torchs_flop_counter(m, hidden, blocks, embed):
    size = DenoiserSize(m, hidden, blocks, embed)
    net = Denoiser(m, DiffusionConfig(hidden_dim=hidden, n_blocks=blocks, embed_dim=embed))
    assert size.parameters() == sum(p.numel() for p in net.parameters())
    b = 5
    z, y, t = torch.randn(b, m), torch.randn(b), torch.randint(1, 50, (b,))
    with FlopCounterMode(display=False) as fwd:
        net(z, y, t)
    assert fwd.get_total_flops() == b * size.forward_flops()
    with FlopCounterMode(display=False) as train:
        net(z, y, t).square().mean().backward()
    assert train.get_total_flops() == b * size.training_flops()
    # training is about 3x the forward pass, less the input gradients nobody needs
    assert 2 * size.forward_flops() < size.training_flops() < 3 * size.forward_flops()
    assert size.generation_flops(50) == 50 * size.forward_flops()


def test_the_seed_000_denoiser_size():
    s = size_for_parameters(2048, 12.9e6)
    assert (s.hidden_dim, s.n_blocks, s.embed_dim) == (1024, 4, 128)
    assert abs(s.parameters() - 12.9e6) / 12.9e6 < 0.025  # 13.17 M


def test_quick_speed_report_writes_json_and_markdown(tmp_path, capsys):
    out = tmp_path / "speed" / "report"
    assert main(["speed", "--quick", "--parts", "machine,diffusion,samplers",
                 "--out", str(out)]) == 0  # fmt: skip
    r = json.loads((tmp_path / "speed" / "report.json").read_text())
    md = (tmp_path / "speed" / "report.md").read_text()
    assert r["command"].startswith("latentdiff speed --quick")
    assert r["matmul"]["gflops"] > 0 and r["matmul"]["threads"] == torch.get_num_threads()
    (case,) = r["diffusion"]
    assert [t["batch"] for t in case["training"]] == [8, 32]
    for row in case["training"] + case["generation"]:
        assert row["samples_per_s"] > 0 and 0 < row["fraction_of_roofline"]
        assert row["peak_rss_mb"] > 0
    assert r["samplers"]["ours_all_rows"]["smogn_seconds"] > 0
    assert "stream" not in r
    for heading in ("## This machine", "## The diffusion model", "Table 5(a)", "## SMOTER"):
        assert heading in md
    assert r["command"] in md


def test_speed_refuses_an_unknown_part(capsys):
    assert main(["speed", "--quick", "--parts", "gpu"]) == 2
    assert "unknown part 'gpu'" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_streaming_measurement_in_its_own_process(tmp_path):
    from latentdiff.speed.stream import run_stream

    r = run_stream(str(tmp_path), rows=3000, m=8, n_real=300, n_bins=2, timesteps=2,
                   diffusion_steps=2, chunk=500)  # fmt: skip
    assert r["generated"] == 3000 and 0 < r["accepted"] <= 3000
    assert r["file_bytes"] == 128 + 4 * 8 * r["accepted"]
    assert r["head_rows_read"] == r["accepted"] + 300 and r["peak_rss_mb"] > 0
    assert list(tmp_path.iterdir()) == []  # the file and its folder are removed
