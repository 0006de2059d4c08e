"""Seed 000's Table 2 ablations (issue 13, point 2): uniform generation, the priority sample
weighting of synthetic features, method variants ``latentdiff[KEY=VALUE]`` and ``--grid
table2``, and the paired differences against the full model in ``results.md``."""

import json

import numpy as np
import pytest
import torch
from conftest import long_tailed_frame

from latentdiff import training
from latentdiff.augment import allocate, priority_sample_weights, uniform_allocation
from latentdiff.cli import main
from latentdiff.methods import GRIDS, RunContext, get_method
from latentdiff.methods.variants import TABLE2, method_settings
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import BenchConfig, HeadConfig, SamplerConfig, TrainConfig
from latentdiff.training import RegressionModel, fit_head


# --- uniform generation ---------------------------------------------------------------------------
def test_uniform_allocation_counts_by_hand():
    # 3 bins with real samples, one empty: 10 samples are 10/3 = 3.33 each; floors 3, 3, 3 and
    # the one left over goes to the first of the tied remainders; the empty bin gets none
    p = uniform_allocation([5, 0, 3, 1])
    np.testing.assert_allclose(p, [1 / 3, 0, 1 / 3, 1 / 3])
    assert allocate(p, 10).tolist() == [4, 0, 3, 3]
    assert allocate(uniform_allocation([7, 7]), 9).tolist() == [5, 4]
    with pytest.raises(ValueError, match="no bin"):
        uniform_allocation([0, 0])


def test_the_sampler_spreads_the_ratio_evenly_over_the_bins_with_real_samples():
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.uniform(0, 1, 300), rng.uniform(3, 4, 20)])  # bins 2-5 of 8 empty
    Z = np.column_stack([y + rng.normal(0, 0.1, y.size), rng.normal(size=y.size)])
    kw = dict(n_bins=8, ratio=0.25, generator="gaussian", gate=False, random_state=0)
    s = LatentDiffSampler(allocation="uniform", **kw).fit(Z, y)
    s.generate()
    counts = [r["n_real"] for r in s.report_]
    requested = [r["requested"] for r in s.report_]
    # 80 samples over the 4 bins with real samples, 20 each, whatever their priority
    assert [c > 0 for c in counts] == [True, True, False, False, False, False, True, True]
    assert requested == [20, 20, 0, 0, 0, 0, 20, 20]
    by_priority = LatentDiffSampler(**kw).fit(Z, y)
    by_priority.generate()
    assert [r["requested"] for r in by_priority.report_] != requested  # the default differs
    assert s.settings().allocation == "uniform" and SamplerConfig().allocation == "priority"


# --- the priority sample weighting ----------------------------------------------------------------
def test_priority_sample_weights_by_hand():
    # P = (0.5, 0.2, 0.3); samples in bins 0, 0, 1, 2: P = .5, .5, .2, .3, mean .375
    w = priority_sample_weights([0.5, 0.2, 0.3], [0, 0, 1, 2])
    np.testing.assert_allclose(w, [0.5 / 0.375, 0.5 / 0.375, 0.2 / 0.375, 0.3 / 0.375])
    assert priority_sample_weights([1.0], []).size == 0


def _first_loss(monkeypatch, head: HeadConfig, synthetic_weights=None):
    """The head's loss on its first batch (one batch holds every row) and the rows' weights
    and errors, computed by hand from the same head."""
    rng = np.random.default_rng(0)
    Zr, yr = rng.normal(size=(6, 3)), rng.normal(size=6)
    Zs, ys = rng.normal(size=(4, 3)), rng.normal(size=4)
    torch.manual_seed(0)
    model = RegressionModel(torch.nn.Identity(), 3, 0.5, 2.0)
    stages = []
    monkeypatch.setattr(training, "_train", lambda stage, *a, **k: stages.append(stage))
    fit_head(model, Zr, yr, Zs, ys, Zr, yr, head, random_state=0, progress=False,
             synthetic_weights=synthetic_weights)  # fmt: skip
    loss, n = next(stages[0].losses(0, np.random.default_rng(1)))
    W = model.head.weight.detach().numpy().astype(np.float64).ravel()
    b = float(model.head.bias.detach())
    pred = np.concatenate([Zr, Zs]) @ W + b
    target = (np.concatenate([yr, ys]) - 0.5) / 2.0  # standardised labels
    return float(loss.detach()), n, (pred - target) ** 2


def test_the_head_loss_weighs_synthetic_samples_by_priority(monkeypatch):
    head = HeadConfig(batch_size=64, synthetic_weight=2.0, sample_weighting="priority")
    sw = np.array([1.5, 0.5, 1.0, 1.0])
    loss, n, sq = _first_loss(monkeypatch, head, sw)
    w = np.concatenate([np.ones(6), 2.0 * sw])  # real 1; synthetic: synthetic_weight x P-weight
    assert n == 10
    assert loss == pytest.approx(float((w * sq).sum() / w.sum()), rel=1e-5)
    # none: every synthetic sample has synthetic_weight, whatever weights are given
    plain, _, sq = _first_loss(monkeypatch, head.replace(sample_weighting="none"), sw)
    w = np.concatenate([np.ones(6), np.full(4, 2.0)])
    assert plain == pytest.approx(float((w * sq).sum() / w.sum()), rel=1e-5)
    assert plain != pytest.approx(loss, rel=1e-3)
    with pytest.raises(ValueError, match="needs the synthetic samples' weights"):
        _first_loss(monkeypatch, head)
    with pytest.raises(ValueError, match="4 finite values"):
        _first_loss(monkeypatch, head, sw[:3])


# --- variants and the grid ------------------------------------------------------------------------
def test_the_grid_expands_to_table_2s_variants_with_their_settings():
    assert GRIDS["table2"] == TABLE2
    settings = method_settings(TABLE2)
    expected = {
        "latentdiff[schedule=linear]": {"sampler.diffusion.schedule": "linear"},
        "latentdiff[use_ema=false]": {"sampler.diffusion.use_ema": False},
        "latentdiff[prediction=epsilon]": {"sampler.diffusion.prediction": "epsilon"},
        "latentdiff[sample_weighting=priority]": {"head.sample_weighting": "priority"},
        "latentdiff[allocation=uniform]": {"sampler.allocation": "uniform"},
        **{f"latentdiff[ratio={r}]": {"sampler.ratio": r} for r in (0.4, 0.6, 0.8, 0.9)},
        **{
            f"latentdiff[priority_weight={w}]": {"sampler.priority_weight": w}
            for w in (0.3, 0.5, 0.9)
        },  # fmt: skip
        "latentdiff[gate=false]": {"sampler.gate": False},
        **{f"latentdiff[quantile={q}]": {"sampler.quantile": q} for q in (0.9, 0.99)},
    }
    assert settings == expected
    plain = [m for m in TABLE2 if m not in expected]
    assert plain == ["vanilla", "latentdiff", "latentgan", "latentdiff-gaussian",
                     "latentdiff-interp"]  # fmt: skip
    # the full model is Table 6's: what the variants change is set otherwise by default
    d = SamplerConfig()
    assert (d.ratio, d.priority_weight, d.gate, d.quantile, d.allocation) == (
        0.2, 0.7, True, 0.95, "priority")  # fmt: skip
    # applied to a run's settings, each changes its own setting and nothing else
    config = BenchConfig.from_dict({"data": {"dataset": "diamonds"}, "methods": list(TABLE2)})
    for name, paths in expected.items():
        sampler, head = get_method(name).overrides.apply(config.sampler, config.head)
        ours = {"sampler": sampler.to_dict(), "head": head.to_dict()}
        theirs = {"sampler": config.sampler.to_dict(), "head": config.head.to_dict()}
        for path, value in paths.items():
            *parents, key = path.split(".")
            a, b = ours, theirs
            for p in parents:
                a, b = a[p], b[p]
            assert a[key] == value != b[key]
            a[key] = b[key]
        assert ours == theirs, name


@pytest.mark.parametrize("name, message", [
    ("vanilla[ratio=0.4]", "only the LatentDiff-family methods"),
    ("latentdiff[ratio=500]", "sampler.ratio"),
    ("latentdiff[batch_size=8]", "write diffusion.batch_size or head.batch_size"),
    ("latentdiff[gan.n_steps=3]", "gan generator"),
    ("latentdiff[nonsense=1]", "no setting 'nonsense'"),
    ("latentdiff[ratio]", "expected KEY=VALUE"),
    ("latentdiff[ratio=0.4", "not a method variant"),
    ("latentdiff[ratio=0.4,ratio=0.5]", "set twice"),
])  # fmt: skip
def test_bad_variants_are_refused_by_name(name, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        get_method(name)


def test_qualified_keys_and_other_generators():
    m = get_method("latentgan[gan.n_steps=5,head.batch_size=8]")
    assert m.overrides.paths() == {"sampler.gan.n_steps": 5, "head.batch_size": 8}
    sampler, head = m.overrides.apply(SamplerConfig(), HeadConfig())
    assert sampler.gan.n_steps == 5 and head.batch_size == 8 and sampler.diffusion is None
    assert get_method("latentdiff[ratio=0.4]+lds").head_method.overrides.paths() == {
        "sampler.ratio": 0.4}  # fmt: skip
    assert get_method("latentdiff", {"latentdiff": {"ratio": 0.4}}).overrides.paths() == {
        "sampler.ratio": 0.4
    }  # --method-option latentdiff.ratio=0.4 is the same setting
    assert get_method("latentdiff").file_name == "latentdiff"
    assert get_method("latentdiff[ratio=0.4]").file_name != get_method(
        "latentdiff[ratio=0.5]").file_name  # fmt: skip


def test_the_tuned_method_refuses_the_settings_it_chooses_itself(tiny_dataset):
    from latentdiff.encoders import make_encoder

    ctx = RunContext(tiny_dataset, lambda: make_encoder("mlp"), TrainConfig(epochs=1), 0,
                     sampler=SamplerConfig(allocation="uniform"), progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="chooses its allocation"):
        get_method("latentdiff-tuned").run_on(ctx, None)


def test_two_variants_end_to_end_share_the_network(tmp_path, capsys):
    data = tmp_path / "t.csv"
    long_tailed_frame(300).to_csv(data, index=False)
    out = tmp_path / "run"
    variant = "latentdiff[allocation=uniform,sample_weighting=priority]"
    rc = main(["bench", "--data", str(data), "--target", "target", "--no-progress",
               "--epochs", "2", "--seeds", "0,1", "--analysis-rows", "0", "--generator",
               "gaussian", "--methods", f"vanilla,latentdiff,{variant}",
               "--out", str(out)])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["method_settings"] == {
        variant: {"sampler.allocation": "uniform", "head.sample_weighting": "priority"}
    }
    runs = {(r["method"], r["seed"]): r for r in json.loads((out / "runs.json").read_text())}
    for seed in (0, 1):
        got = runs[(variant, seed)]
        assert got["settings"] == config["method_settings"][variant]
        assert got["generator"] == "gaussian"
        req = [b["requested"] for b in got["per_bin"] if b["n_real"] > 0]
        assert max(req) - min(req) <= 1 and sum(req) == got["n_synthetic_requested"]
        base = [b["requested"] for b in runs[("latentdiff", seed)]["per_bin"]]
        assert base != [b["requested"] for b in got["per_bin"]]
    # one stage-1 network per seed, shared by every method
    for seed in (0, 1):
        nets = list((out / "checkpoints" / f"seed-{seed}").glob("network-*.safetensors"))
        assert [n.name for n in nets] == ["network-vanilla.safetensors"]
    md = (out / "results.md").read_text()
    assert "paired differences against the full model (latentdiff)" in md
    records = json.loads((out / "results.json").read_text())
    by = {(r["method"], r["seed"]): r["value"] for r in records
          if r["metric"] == "mae" and r["region"] == "all"}  # fmt: skip
    d = [by[(variant, s)] - by[("latentdiff", s)] for s in (0, 1)]
    row = next(line for line in md.splitlines() if line.startswith(f"| {variant} |")
               and "seeds better" in line)  # fmt: skip
    assert row.split("|")[2].strip().startswith(f"{np.mean(d):+.4f} ± {np.std(d, ddof=1):.4f}")


def test_variants_share_a_generator_fit_and_get_the_fresh_fits_predictions(tiny_dataset):
    from conftest import FAST_DIFFUSION

    from latentdiff.encoders import make_encoder
    from latentdiff.settings import DiffusionConfig

    def ctx():
        sampler = SamplerConfig(n_bins=8, diffusion=DiffusionConfig(**FAST_DIFFUSION))
        return RunContext(tiny_dataset, lambda: make_encoder("mlp"), TrainConfig(epochs=2), 0,
                          sampler=sampler, head=HeadConfig(epochs=3), progress=False)  # fmt: skip

    shared = ctx()
    full, _ = shared.run_method("latentdiff")
    variant, _ = shared.run_method("latentdiff[ratio=0.5]")
    other, _ = shared.run_method("latentdiff[schedule=linear]")  # another generator: fitted
    fresh, _ = ctx().run_method("latentdiff[ratio=0.5]")
    assert not full.info["generator_shared"] and variant.info["generator_shared"]
    assert not other.info["generator_shared"] and not fresh.info["generator_shared"]
    assert len(shared.generators) == 2
    np.testing.assert_array_equal(variant.predictions["test"], fresh.predictions["test"])
    assert variant.info["n_synthetic_requested"] > full.info["n_synthetic_requested"]


def test_the_committed_summary_and_the_docs_table_regenerate_from_the_result_files():
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "issue13_ablations", root / "scripts" / "issue13_ablations.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    results = root / "docs" / "results" / "issue-13" / "ablations"
    assert (results / "summary.md").read_text() == script.main(str(results)) + "\n"
    assert script.short_table(results) in (root / "docs" / "methods.md").read_text()
