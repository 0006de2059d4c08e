import json

import numpy as np
import pytest
from conftest import FAST_DIFFUSION

from latentdiff.encoders import make_encoder
from latentdiff.pipeline import LatentDiffPipeline, fit_latentdiff, fit_vanilla
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import HeadConfig, TrainConfig

FAST_TRAIN = TrainConfig(epochs=15, batch_size=64, patience=5)


def test_end_to_end_on_a_tiny_long_tailed_set(tiny_dataset):
    pipe = LatentDiffPipeline(
        make_encoder("mlp", hidden_dims=(32, 16)),
        FAST_TRAIN,
        LatentDiffSampler(n_bins=8, ratio=0.5, diffusion=FAST_DIFFUSION),
        HeadConfig(epochs=10, batch_size=64),
        random_state=0,
        progress=False,
    ).fit(tiny_dataset)
    ev = pipe.evaluate("test")
    for method in ("vanilla", "latentdiff"):
        assert ev[method]["all"]["mse"] is not None and np.isfinite(ev[method]["all"]["mse"])
    ld = pipe.latentdiff_
    assert ld.n_synthetic == sum(r["accepted"] for r in ld.sampler.report_)
    cons = ld.consistency()
    assert [c["bin"] for c in cons] == list(range(8))
    for c, r in zip(cons, ld.sampler.report_, strict=True):
        assert (c["vanilla_on_synthetic"] is None) == (r["accepted"] == 0)
        assert (c["vanilla_on_real"] is None) == (r["n_real"] == 0)
    # stage 8: f then the retrained h; the encoder is the vanilla one, untouched
    v = pipe.vanilla_
    for p_v, p_l in zip(v.model.encoder.parameters(), ld.model.encoder.parameters(), strict=True):
        assert np.array_equal(p_v.detach().numpy(), p_l.detach().numpy())
    assert pipe.predict("test").shape == tiny_dataset.test.y.shape


def test_vanilla_selection_on_validation_and_repeatability(tiny_dataset):
    a = fit_vanilla(tiny_dataset, make_encoder("mlp", hidden_dims=(16,)), FAST_TRAIN, 1, False)
    b = fit_vanilla(tiny_dataset, make_encoder("mlp", hidden_dims=(16,)), FAST_TRAIN, 1, False)
    np.testing.assert_array_equal(a.predictions("test"), b.predictions("test"))
    vals = [h["val_mse"] for h in a.result.history]
    assert a.result.best_val == pytest.approx(min(vals))
    assert a.result.best_epoch == int(np.argmin(vals))
    # the kept model is the best epoch's: its validation MSE is the recorded best
    err = a.predictions("val") - tiny_dataset.val.y
    assert np.mean(err**2) == pytest.approx(a.result.best_val, rel=1e-5)


@pytest.mark.parametrize("schedule", ["natural", "constant", "linear"])
def test_mixing_schedules(tiny_dataset, schedule):
    v = fit_vanilla(tiny_dataset, make_encoder("mlp", hidden_dims=(16,)), FAST_TRAIN, 0, False)
    head = HeadConfig(epochs=6, patience=None, mix_schedule=schedule, mix_ratio=0.3)
    fit = fit_latentdiff(
        v, LatentDiffSampler(n_bins=6, ratio=0.5, diffusion=FAST_DIFFUSION), head, 0, False
    )
    fr = [h["synthetic_fraction"] for h in fit.head_result.history]
    if schedule == "linear":
        assert fr[0] == 0 and fr[-1] == pytest.approx(0.3, abs=0.02) and fr == sorted(fr)
    elif schedule == "constant":
        assert all(f == pytest.approx(0.3, abs=0.02) for f in fr)
    else:
        assert len(set(fr)) == 1


def test_head_config_validation():
    with pytest.raises(ValueError, match="mix_schedule"):
        HeadConfig(mix_schedule="cosine")
    with pytest.raises(ValueError, match="mix_ratio"):
        HeadConfig(mix_ratio=1.0)
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)


def test_bench_cli_contract(tmp_path, tiny_frame, capsys):
    from latentdiff.cli import main

    csv = tmp_path / "tiny.csv"
    tiny_frame.to_csv(csv, index=False)
    out = tmp_path / "bench"
    args = ["bench", "--data", str(csv), "--target", "target", "--out", str(out)]
    args += ["--methods", "vanilla,retrain-head,latentdiff", "--seeds", "0,1", "--epochs", "5"]
    args += ["--diffusion-steps", "30", "--eval-bins", "10", "--n-bins", "6", "--no-progress"]
    rc = main(args)
    assert rc == 0
    records = json.loads((out / "results.json").read_text())
    assert {tuple(sorted(r)) for r in records} == {
        ("dataset", "method", "metric", "region", "seed", "value")
    }
    assert {r["method"] for r in records} == {"vanilla", "retrain-head", "latentdiff"}
    assert {r["seed"] for r in records} == {0, 1}
    assert {r["region"] for r in records} == {"all", "many", "medium", "few"}
    assert {r["metric"] for r in records} == {"mae", "mse", "gm", "pearson", "spearman", "r2"}
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["bench"]["methods"] == ["vanilla", "retrain-head", "latentdiff"]
    assert cfg["encoder_name"] == "mlp"
    md = (out / "results.md").read_text()
    assert "| latentdiff vs vanilla |" in md and "± " in md
    assert "MSE" in capsys.readouterr().out
    assert main(["report", str(out)]) == 0
    doc = capsys.readouterr().out
    assert "# Benchmarks" in doc and "latentdiff − vanilla, paired" in doc and "seeds better" in doc


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--target", "nope"], "target column 'nope'"),
        (["--target", "kind"], "not numeric"),
        (["--methods", "vanilla,magic"], "unknown method 'magic'"),
        (["--encoder-option", "depth=3"], "does not take the option(s) ['depth']"),
        (["--methods", "inv+sqinv"], "both set the weights"),
        (["--grid", "table1", "--methods", "lds"], "--grid or --methods"),
        (["--methods", "lds", "--method-option", "lds.kernel=cauchy"], "unknown LDS kernel"),
        (["--methods", "lds", "--method-option", "kernel=laplace"], "METHOD.KEY=VALUE"),
    ],
)
def test_cli_errors_name_the_problem(tmp_path, tiny_frame, capsys, args, msg):
    from latentdiff.cli import main

    csv = tmp_path / "tiny.csv"
    tiny_frame.to_csv(csv, index=False)
    base = ["bench", "--data", str(csv), "--out", str(tmp_path / "o"), "--no-progress"]
    if "--target" not in args:
        base += ["--target", "target"]
    assert main(base + args) == 2
    assert msg in capsys.readouterr().err


def test_cli_missing_and_empty_files(tmp_path, capsys):
    from latentdiff.cli import main

    assert main(["bench", "--data", str(tmp_path / "none.csv"), "--target", "y", "--dataset", "csv",
                 "--out", str(tmp_path / "o"), "--no-progress"]) == 2  # fmt: skip
    assert "not found" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["bench", "--data", str(empty), "--target", "y", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 2  # fmt: skip
    assert "empty" in capsys.readouterr().err


def test_encoder_option_values_are_json_or_text():
    from latentdiff.cli import _key_value

    assert _key_value("dropout=0.2") == ("dropout", 0.2)
    assert _key_value("hidden_dims=[8, 4]") == ("hidden_dims", [8, 4])
    assert _key_value("glove_dir=/data/glove") == ("glove_dir", "/data/glove")


def test_cli_method_options_reach_the_run_configuration(tmp_path, tiny_frame):
    from latentdiff.cli import main

    csv = tmp_path / "tiny.csv"
    tiny_frame.to_csv(csv, index=False)
    out = tmp_path / "b"
    args = ["bench", "--data", str(csv), "--target", "target", "--out", str(out), "--seeds", "0"]
    args += ["--methods", "lds,fds+lds", "--method-option", "lds.kernel=laplace"]
    args += ["--method-option", "lds.ks=3", "--epochs", "3", "--eval-bins", "10", "--no-progress"]
    assert main(args) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["bench"]["method_options"] == {"lds": {"kernel": "laplace", "ks": 3}}
    assert cfg["bench"]["methods"] == ["lds", "fds+lds"]
