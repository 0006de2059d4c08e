"""latentdiff-tuned (CoDSA's tuning on LatentDiff) and auto (the guarded choice of a method)."""

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import FAST_DIFFUSION

from latentdiff.augment import QualityGate, allocate, priority
from latentdiff.binning import Bins
from latentdiff.methods import RunContext, get_method
from latentdiff.methods.auto import Auto, _bootstrap
from latentdiff.metrics import bin_balanced_error
from latentdiff.settings import DiffusionConfig, HeadConfig, SamplerConfig, TrainConfig, TuneConfig
from latentdiff.tuning import Pool, Tuner, bin_regions, requested_counts


def test_bin_balanced_error_by_hand():
    bins = Bins.fit(np.array([0.0, 10.0]), n_bins=2)  # [0, 5) and [5, 10]
    y = np.array([1.0, 2.0, 3.0, 9.0])
    p = np.array([2.0, 2.0, 3.0, 5.0])  # errors 1, 0, 0 | 4
    assert bin_balanced_error(y, p, bins, "mae") == pytest.approx((1 / 3 + 4) / 2)
    assert bin_balanced_error(y, p, bins, "mse") == pytest.approx((1 / 3 + 16) / 2)
    with pytest.raises(ValueError, match="metric"):
        bin_balanced_error(y, p, bins, "r2")


def _fake_sampler(counts, errors):
    return SimpleNamespace(
        bin_counts_=np.asarray(counts), bin_errors_=np.asarray(errors, float), error_scale="max"
    )


def test_requested_counts_priority_is_eq_9_10():
    s = _fake_sampler([50, 10, 2, 0], [0.1, 0.5, 1.0, np.nan])
    regions = np.array(["many", "medium", "few", None], dtype=object)
    got = requested_counts("priority:0.7", 100, s, regions)
    want = allocate(priority(s.bin_errors_, s.bin_counts_, 0.7, "max"), 100)
    np.testing.assert_array_equal(got, want)


def test_requested_counts_region_vectors():
    s = _fake_sampler([50, 40, 10, 2, 1, 0], [0.1] * 5 + [np.nan])
    regions = np.array(["many", "many", "medium", "few", "few", None], dtype=object)
    few = requested_counts("few", 10, s, regions)
    np.testing.assert_array_equal(few, [0, 0, 0, 5, 5, 0])  # evenly over the few bins
    mf = requested_counts("medium+few", 12, s, regions)
    np.testing.assert_array_equal(mf, [0, 0, 6, 3, 3, 0])
    # eq. 5 (balanced): n = 103, m = 47, R = 3 -> 50 each: many 90 -> 0, medium 10 -> 40,
    # few 3 -> 47; normalised to m = 47: 21.6 to medium, 12.7 to each few bin, rounded by
    # largest remainder over the bins
    bal = requested_counts("balanced", 47, s, regions)
    np.testing.assert_array_equal(bal, [0, 0, 21, 13, 13, 0])


def test_bin_regions_majority_with_ties_to_rarer():
    b = np.array([0, 0, 0, 1, 1])
    r = np.array(["many", "many", "medium", "medium", "few"], dtype=object)
    np.testing.assert_array_equal(bin_regions(b, r, 3), np.array(["many", "few", None], object))


def test_pool_candidates_are_nested():
    pool = Pool(
        np.arange(10, dtype=np.float32)[:, None], np.zeros(10), np.repeat([0, 1], 5),
        np.zeros(10), np.array([0, 5]), np.array([5, 5]),
    )  # fmt: skip
    small, large = pool.take(np.array([1, 2])), pool.take(np.array([3, 5]))
    assert set(small) <= set(large)
    np.testing.assert_array_equal(small, [0, 5, 6])
    with pytest.raises(ValueError, match="more features"):
        pool.take(np.array([6, 0]))


def test_gate_at_its_own_quantile_equals_accept():
    rng = np.random.default_rng(0)
    Z, b = rng.normal(size=(300, 4)), np.repeat(np.arange(3), 100)
    gate = QualityGate(0.9).fit(Z, b, 3)
    Zs, bs = rng.normal(scale=1.3, size=(200, 4)), rng.integers(0, 3, 200)
    d = gate.distances(Zs, bs)
    np.testing.assert_array_equal(gate.accept_at(d, bs, 0.9), gate.accept(Zs, bs))
    assert gate.accept_at(d, bs, 0.5).sum() < gate.accept_at(d, bs, 0.99).sum()


@pytest.fixture
def ctx(tiny_dataset):
    from latentdiff.encoders import make_encoder

    sampler = SamplerConfig(n_bins=8, diffusion=DiffusionConfig(**FAST_DIFFUSION))
    return RunContext(
        tiny_dataset, lambda: make_encoder("mlp"), TrainConfig(epochs=3), 0,
        sampler=sampler, head=HeadConfig(epochs=4), progress=False,
    )  # fmt: skip


SMALL_TUNE = TuneConfig(
    ratios=(0.25, 1.0), priority_weights=(0.7,), region_allocations=("few",),
    quantiles=(0.9,), synthetic_weights=(1.0,), splits=(0.6,),
)  # fmt: skip


def test_tuner_scores_every_candidate_and_chooses_the_lowest(ctx, tmp_path):
    net = ctx.vanilla()
    tuner = Tuner(net, ctx.sampler, ctx.head, SMALL_TUNE, 0, cache_dir=tmp_path)
    result = tuner.run()
    cands = result.report["candidates"]
    stages = {c["stage"] for c in cands}
    # the default generators: diffusion searched in full, gaussian and interp on the ratio axis
    assert stages == {"baseline", "ratio-allocation", "generator", "quantile", "split"}
    assert set(result.report["generators"]) == {"diffusion", "gaussian", "interp"}
    assert result.report["chosen_score"] == pytest.approx(min(c["val_score"] for c in cands))
    assert result.report["chosen_score"] <= result.report["baseline_score"]
    # resumed: every score is read back, only the chosen head is fitted again, same choice
    again = Tuner(net, ctx.sampler, ctx.head, SMALL_TUNE, 0, cache_dir=tmp_path)
    res2 = again.run()
    assert again.n_heads == 1
    assert res2.chosen == result.chosen
    np.testing.assert_array_equal(res2.y_syn, result.y_syn)


def test_tuner_split_keeps_the_head_off_the_generators_rows(ctx):
    net = ctx.vanilla()
    tuner = Tuner(net, ctx.sampler, ctx.head, SMALL_TUNE, 0)
    gen, head = tuner._split_rows(0.6, net.dataset.eval_bins)
    assert np.intersect1d(gen, head).size == 0
    assert gen.size + head.size == net.dataset.train.y.size
    assert 0.55 < gen.size / net.dataset.train.y.size < 0.7


def test_tuned_method_options_are_checked():
    with pytest.raises(ValueError, match="method_options.latentdiff-tuned.ratios"):
        get_method("latentdiff-tuned", {"latentdiff-tuned": {"ratios": [-1]}})
    with pytest.raises(ValueError, match="unknown setting"):
        get_method("latentdiff-tuned", {"latentdiff-tuned": {"ratio": 0.5}})


def test_auto_refuses_bad_candidates():
    with pytest.raises(ValueError, match="combines with none"):
        get_method("auto+lds")
    with pytest.raises(ValueError, match="unknown method"):
        Auto(candidates=["vanilla", "nonsense"])
    with pytest.raises(ValueError, match="keep vanilla"):
        Auto(candidates=["lds", "sqinv"])


def test_bootstrap_guard_refuses_a_lucky_candidate():
    """A candidate no better than vanilla in truth (same errors, shuffled within bins) may win
    the point estimate by chance; the bootstrap does not find it reliably better."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(10.0), 20)
    bins = Bins.fit(y, n_bins=10)
    v = y + rng.normal(0, 1, y.size)
    c = y + rng.normal(0, 1, y.size)
    good = y + rng.normal(0, 0.5, y.size)
    boot = _bootstrap(y, {"vanilla": v, "c": c, "good": good}, bins, "mse", 1000, 0)
    p_c = (boot["c"]["score_draws"] < boot["vanilla"]["score_draws"]).mean()
    p_good = (boot["good"]["score_draws"] < boot["vanilla"]["score_draws"]).mean()
    assert p_good > 0.99
    assert 0.01 < p_c < 0.99


def test_auto_chooses_and_reports(ctx):
    method = get_method("auto", {"auto": {"candidates": ["vanilla", "retrain-head"]}})
    out = method.run(ctx)
    report = out.info["auto"]
    assert report["chosen"] in ("vanilla", "retrain-head")
    assert {c["method"] for c in report["candidates"]} == {"vanilla", "retrain-head"}
    chosen = ctx.run_method(report["chosen"])[0]
    np.testing.assert_array_equal(out.predictions["test"], chosen.predictions["test"])
    assert out.model is chosen.model


def test_the_criterion_is_the_tables_headline_error():
    from latentdiff.settings import BenchConfig

    assert BenchConfig(methods=("vanilla",), progress=False).criterion == "mae"  # CSV tables
    assert BenchConfig(methods=("vanilla",), table_metrics=("mse", "r2")).criterion == "mse"
    assert BenchConfig(methods=("vanilla",), table_metrics=("r2", "mae")).criterion is None


def test_auto_leaves_out_a_candidate_that_fails_and_says_why(ctx):
    from dataclasses import replace

    ctx.sampler = ctx.sampler.replace(n_bins=5000)  # more bins than samples: latentdiff refuses
    method = get_method("auto", {"auto": {"candidates": ["vanilla", "latentdiff"]}})
    report = method.run(replace(ctx)).info["auto"]
    assert report["chosen"] == "vanilla"
    assert "n_bins" in report["failed"]["latentdiff"]


def test_auto_runs_two_head_methods_with_checkpoints_in_one_method(ctx, tmp_path):
    """auto runs latentdiff-tuned and latentdiff-tuned+sqinv inside one benchmark method: each
    keeps its generator checkpoints in its own folder, so neither refuses the other's."""
    ctx.checkpoints = tmp_path / "seed-0"
    options = {"auto": {"candidates": ["vanilla", "latentdiff-tuned", "latentdiff-tuned+sqinv"]}}
    report = get_method("auto", options).run(ctx).info["auto"]
    assert "failed" not in report
    assert {c["method"] for c in report["candidates"]} == {
        "vanilla", "latentdiff-tuned", "latentdiff-tuned+sqinv"}  # fmt: skip
