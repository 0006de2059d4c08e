"""The method registry, '+' combinations, where each hook acts, and the bench bookkeeping."""

import numpy as np
import pytest
import torch
from conftest import FAST_DIFFUSION

from latentdiff.bench import run_bench
from latentdiff.encoders import make_encoder
from latentdiff.hooks import TrainHook
from latentdiff.methods import METHODS, TABLE1, Combined, RunContext, get_method
from latentdiff.pipeline import fit_vanilla
from latentdiff.settings import BenchConfig, HeadConfig, SamplerConfig, TrainConfig

FAST_TRAIN = TrainConfig(epochs=6, batch_size=64, patience=None)
FAST_HEAD = HeadConfig(epochs=4, batch_size=64, patience=None)
FAST_SAMPLER = SamplerConfig(n_bins=6, ratio=0.3, diffusion=FAST_DIFFUSION)


def _ctx(ds, seed=0):
    return RunContext(
        ds,
        lambda: make_encoder("mlp", hidden_dims=(16,)),
        FAST_TRAIN,
        seed,
        sampler=FAST_SAMPLER,
        head=FAST_HEAD,
        progress=False,
    )


def test_every_table1_name_parses():
    for name in TABLE1:
        m = get_method(name)
        assert m is not None
    assert isinstance(get_method("latentdiff+fds+lds"), Combined)
    # LDS smooths the scheme named with it; alone it smooths SQINV (the reference's default)
    assert get_method("sqinv+lds").key() == get_method("lds").key()
    assert get_method("inv+lds").key() != get_method("lds").key()
    # component order does not matter for the shared network
    assert get_method("fds+lds").key() == get_method("lds+fds").key()
    assert get_method("latentdiff+lds").key() == get_method("lds").key()


@pytest.mark.parametrize(
    "name, msg",
    [
        ("inv+sqinv", "both set the weights"),
        ("inv+sqinv+lds", "both set the weights"),
        ("latentdiff+rrt", "head methods"),
        ("nonsense", "unknown method 'nonsense'"),
        ("lds++fds", "empty method name"),
        ("lds+lds", "named twice"),
    ],
)
def test_bad_combinations_are_refused(name, msg):
    with pytest.raises(ValueError, match=msg):
        get_method(name)


def test_options_are_checked_when_the_method_is_made():
    with pytest.raises(ValueError, match="kernel"):
        get_method("lds", {"lds": {"kernel": "cauchy"}})
    with pytest.raises(ValueError, match="unexpected keyword|takes no options"):
        get_method("vanilla", {"vanilla": {"x": 1}})
    with pytest.raises(ValueError, match="does not use"):
        get_method("lds", {"fds": {"ks": 3}})


class _Recorder(TrainHook):
    name = "recorder"

    def __init__(self):
        self.calls = []

    def calibrate(self, z, y, epoch):
        self.calls.append(("calibrate", epoch))
        return z

    def penalty(self, step):
        self.calls.append(("penalty", step.epoch))
        return step.features.sum() * 0.0

    def end_epoch(self, model, inputs, y, epoch):
        self.calls.append(("end_epoch", epoch))


def test_hooks_are_called_in_training(tiny_dataset):
    rec = _Recorder()
    cfg = TrainConfig(epochs=2, batch_size=10_000, patience=None)
    fit_vanilla(tiny_dataset, make_encoder("mlp", hidden_dims=(8,)), cfg, 0, False, hooks=[rec])
    assert rec.calls == [
        ("calibrate", 0),
        ("penalty", 0),
        ("end_epoch", 0),
        ("calibrate", 1),
        ("penalty", 1),
        ("end_epoch", 1),
    ]


def test_network_methods_share_and_differ(tiny_dataset):
    ctx = _ctx(tiny_dataset)
    out = {m: get_method(m).run(ctx) for m in ("vanilla", "sqinv", "lds", "inv", "fds", "fds+lds")}
    # six networks, each trained once
    assert len(ctx._networks) == 6
    p = {m: o.predictions["test"] for m, o in out.items()}
    for m in ("sqinv", "lds", "inv", "fds", "fds+lds"):
        assert not np.allclose(p[m], p["vanilla"]), m
    # the head methods reuse the network of their components
    n_before = len(ctx._networks)
    get_method("rrt").run(ctx)
    get_method("latentdiff+lds").run(ctx)
    assert len(ctx._networks) == n_before
    # weights act in the head retraining: rrt (INV) differs from the unweighted control
    a = get_method("rrt").run(ctx).predictions["test"]
    b = get_method("retrain-head").run(ctx).predictions["test"]
    assert not np.allclose(a, b)


def test_an_option_with_a_list_value_names_its_own_network(tiny_dataset):
    # options arrive from JSON (--method-option inv.clip=[5,1000]): lists must key a network
    ctx = _ctx(tiny_dataset)
    clipped = get_method("inv", {"inv": {"clip": [5, 1000]}})
    out = clipped.run(ctx)
    assert np.all(np.isfinite(out.predictions["test"]))
    assert clipped.key() != get_method("inv", {"inv": {"clip": [2, 50]}}).key()
    assert len(ctx._networks) == 1


def test_fds_calibrates_only_in_training(tiny_dataset):
    ctx = _ctx(tiny_dataset)
    net = ctx.network(get_method("fds").key(), lambda: get_method("fds").make_hooks(ctx))
    fds = net.hooks[0].fds
    assert int(fds.num_samples_tracked.sum()) == FAST_TRAIN.epochs * len(tiny_dataset.train)
    # inference is the plain encoder and head: no calibration
    inputs = net.inputs("test")
    with torch.no_grad():
        direct = net.model.to_labels(net.model.head(net.model.features(*inputs.tensors)))
    np.testing.assert_allclose(net.predictions("test"), direct.squeeze(-1).numpy(), rtol=1e-6)


def test_bench_counts_a_shared_network_once(tmp_path, tiny_dataset):
    cfg = BenchConfig(
        methods=("latentdiff+lds", "lds", "vanilla"),
        seeds=(0,),
        encoder="mlp",
        encoder_options={"hidden_dims": [16]},
        train=FAST_TRAIN,
        sampler=FAST_SAMPLER,
        head=FAST_HEAD,
        progress=False,
    )
    run_bench(cfg, tmp_path, dataset=tiny_dataset)
    import json

    runs = {r["method"]: r for r in json.loads((tmp_path / "runs.json").read_text())}
    lds_train = runs["lds"]["train_seconds"]
    assert runs["lds"]["seconds"] == pytest.approx(lds_train)
    # latentdiff+lds trained the lds network first but does not count it
    assert (
        runs["latentdiff+lds"]["seconds"]
        < sum(runs["latentdiff+lds"]["stage_seconds"].values()) + lds_train
    )


def test_registry_names_are_the_cli_names():
    for name in ("vanilla", "lds", "fds", "inv", "sqinv", "rrt", "latentdiff", "latentgan"):
        assert name in METHODS


@pytest.mark.parametrize(
    "name", ["focal-r", "bmc", "bni", "gai", "ranksim", "conr", "smoter", "smogn"]
)
def test_loss_and_regulariser_methods_train_and_change_the_network(tiny_dataset, name):
    ctx = _ctx(tiny_dataset)
    out = get_method(name).run(ctx)
    base = get_method("vanilla").run(ctx)
    p = out.predictions["test"]
    assert p.shape == tiny_dataset.test.y.shape and np.all(np.isfinite(p))
    assert not np.allclose(p, base.predictions["test"])


def test_balanced_mse_learns_sigma_in_its_own_group(tiny_dataset):
    ctx = _ctx(tiny_dataset)
    out = get_method("bmc", {"bmc": {"init_noise_sigma": 0.5}}).run(ctx)
    sigma = out.info["bmc_noise_sigma"]
    assert sigma != pytest.approx(0.5)  # it moved, at 1e-3 label stds per step
    with pytest.raises(ValueError, match="balances the loss itself"):
        get_method("bmc+lds")


def test_focal_r_defaults_follow_the_stage1_loss(tiny_dataset):
    hooks = get_method("focal-r").make_hooks(_ctx(tiny_dataset))
    assert hooks[0].base == "mse" and hooks[0].beta == 20.0
    ctx = _ctx(tiny_dataset)
    ctx.train = TrainConfig(epochs=2, loss="l1", select_metric="mae")
    hooks = get_method("focal-r").make_hooks(ctx)
    assert hooks[0].base == "l1" and hooks[0].beta == 0.2


def test_resampling_methods_grow_the_rare_training_set_and_refuse_token_ids(tiny_dataset):
    ctx = _ctx(tiny_dataset)
    out = get_method("smoter").run(ctx)
    assert out.info["smoter_n_train_before"] == len(tiny_dataset.train)
    assert out.info["smoter_n_train_after"] > 0
    from torch.utils.data import TensorDataset

    from latentdiff.methods.input_resampling import ResampleHook

    ids = TensorDataset(torch.zeros(10, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="--encoder minilm"):
        ResampleHook("smoter").transform_train(ids, np.arange(10.0), 0)


def test_grid_report_shape(tmp_path, tiny_dataset):
    from latentdiff.reporting.grid import grid_section
    from latentdiff.reporting.runs import load_run

    cfg = BenchConfig(
        methods=("vanilla", "lds", "smoter", "latentdiff"),
        seeds=(0, 1),
        encoder="mlp",
        encoder_options={"hidden_dims": [16]},
        train=FAST_TRAIN,
        sampler=FAST_SAMPLER,
        head=FAST_HEAD,
        table_metrics=("mse", "r2"),
        progress=False,
    )
    run_bench(cfg, tmp_path, dataset=tiny_dataset)
    md = grid_section(load_run(tmp_path))
    assert "| method | MSE all | MSE many | MSE medium | MSE few | R2 all" in md
    assert md.count("\n| lds | ") == 1 and "seconds |" in md
    assert "### Who wins each region" in md and "/2 seeds better)" in md
    assert "**Goal**" in md
    assert "SMOTER / SMOGN vs LatentDiff" in md and "| latentdiff − smoter |" in md
    assert "LatentGAN" not in md  # not in this run


def test_a_failing_method_is_recorded_and_the_others_run(tmp_path, tiny_dataset, monkeypatch):
    from latentdiff.methods import METHODS, NetworkMethod

    class Broken(NetworkMethod):
        name = "broken"

        def run(self, ctx):
            raise ValueError("cannot run on this data")

    monkeypatch.setitem(METHODS, "broken", Broken)
    cfg = BenchConfig(
        methods=("broken", "vanilla"),
        seeds=(0,),
        encoder="mlp",
        encoder_options={"hidden_dims": [8]},
        train=FAST_TRAIN,
        progress=False,
    )
    records = run_bench(cfg, tmp_path, dataset=tiny_dataset)
    assert {r["method"] for r in records} == {"vanilla"}
    import json

    runs = json.loads((tmp_path / "runs.json").read_text())
    assert runs[0] == {"method": "broken", "seed": 0, "error": "cannot run on this data"}
    assert "## Failed runs" in (tmp_path / "results.md").read_text()


def test_smoter_relevance_falls_back_to_shot_regions_when_no_label_is_extreme(tiny_dataset):
    from torch.utils.data import TensorDataset

    from latentdiff.methods.input_resampling import ResampleHook

    y = np.tile(np.linspace(0, 5, 50), 20)  # bounded, no box-plot extreme
    y = np.r_[y, np.full(400, 2.5)]
    X = TensorDataset(torch.randn(y.size, 3))
    regions = tiny_dataset.regions.__class__.from_training_labels(
        y, tiny_dataset.regions.bins.__class__.from_range(0, 5, n_bins=10)
    )
    hook = ResampleHook("smoter", "auto", regions)
    _, y_new = hook.transform_train(X, y, 0)
    assert hook.info()["relevance"] == "shots"
    with pytest.warns(UserWarning, match="no sample has relevance"):  # unchanged, not refused
        _, y_box = ResampleHook("smoter", "boxplot", regions).transform_train(X, y, 0)
    np.testing.assert_array_equal(y_box, y)


def test_smoter_shots_relevance_can_be_asked_for_by_option(tiny_dataset):
    m = get_method("smoter", {"smoter": {"relevance": "shots"}})  # checked without a data set
    out = m.run(_ctx(tiny_dataset))
    assert out.info["smoter_relevance"] == "shots"
