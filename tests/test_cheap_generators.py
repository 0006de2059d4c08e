"""The generators with nothing to train (issue 11): ``gaussian`` (per-bin mean and shrunk
covariance) and ``interp`` (SMOTE in feature space), their borrowing rule for small bins, their
place in the sampler, the methods ``latentdiff-gaussian`` / ``latentdiff-interp``, ``--generator``
and the tuned method's choice of a generator."""

import json

import numpy as np
import pytest
from conftest import long_tailed_frame
from sklearn.covariance import OAS, LedoitWolf

from latentdiff.cli import main
from latentdiff.generators import GENERATORS, FeatureGaussian, FeatureInterp
from latentdiff.generators.empirical import borrowed_rows
from latentdiff.generators.interp import nearest_others
from latentdiff.methods import RunContext, get_method
from latentdiff.params import SettingError
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import (
    BenchConfig,
    GaussianConfig,
    HeadConfig,
    InterpConfig,
    SamplerConfig,
    TrainConfig,
    TuneConfig,
)
from latentdiff.tuning import Tuner


def _two_bins(seed=0):
    """A correlated 3-d bin of 3,000 rows at c = 1 and a shifted one of 200 rows at c = 2."""
    rng = np.random.default_rng(seed)
    A = np.array([[2.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, -0.3, 0.2]])
    Z = np.concatenate([rng.normal(size=(3000, 3)) @ A.T, rng.normal(size=(200, 3)) + 5.0])
    c = np.repeat([1.0, 2.0], [3000, 200])
    return Z, c


# --- gaussian -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shrinkage,estimator", [("oas", OAS), ("ledoit-wolf", LedoitWolf)])
def test_gaussian_samples_have_the_bins_mean_and_shrunk_covariance(shrinkage, estimator):
    Z, c = _two_bins()
    g = FeatureGaussian({"shrinkage": shrinkage}, random_state=0).fit(Z, c)
    S = g.sample(np.full(60_000, 1.0), random_state=1).astype(np.float64)
    # the same estimate computed independently: scikit-learn on the standardised features of
    # the bin, mapped back to feature units (the standardisation uses all rows)
    mu, sd = Z.mean(axis=0), Z.std(axis=0)
    z_bin = (Z[c == 1.0] - mu) / sd
    cov = estimator().fit(z_bin).covariance_ * np.outer(sd, sd)
    np.testing.assert_allclose(S.mean(axis=0), Z[c == 1.0].mean(axis=0), atol=0.03)
    np.testing.assert_allclose(np.cov(S.T), cov, atol=0.05 * np.abs(cov).max())
    assert g.bins_[0].shrinkage == pytest.approx(estimator().fit(z_bin).shrinkage_)
    # the other bin: its own mean, not the first's
    S2 = g.sample(np.full(5000, 2.0), random_state=1)
    np.testing.assert_allclose(S2.mean(axis=0), Z[c == 2.0].mean(axis=0), atol=0.1)


def test_a_few_shot_bins_covariance_is_shrunk_not_the_sample_covariance():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(12, 8)) * np.linspace(0.5, 3, 8)  # 12 rows in 8-d: S is poor
    g = FeatureGaussian(random_state=0).fit(Z, np.zeros(12))
    S = g.sample(np.zeros(100_000), random_state=0).astype(np.float64)
    mu, sd = Z.mean(axis=0), Z.std(axis=0)
    oas = OAS().fit((Z - mu) / sd)
    assert oas.shrinkage_ > 0.2
    want = oas.covariance_ * np.outer(sd, sd)
    np.testing.assert_allclose(np.cov(S.T), want, atol=0.05 * np.abs(want).max())
    sample_cov = np.cov(Z.T, bias=True)
    assert np.abs(np.cov(S.T) - sample_cov).max() > 0.2 * np.abs(want).max()


def test_gaussian_of_two_identical_rows_samples_their_value():
    Z = np.array([[1.0, 2.0], [1.0, 2.0], [5.0, 5.0], [6.0, 4.0]])
    g = FeatureGaussian({"min_rows": 2}).fit(Z, [0.0, 0.0, 1.0, 1.0])
    S = g.sample([0.0] * 5, random_state=0)
    np.testing.assert_allclose(S, np.tile([1.0, 2.0], (5, 1)), atol=1e-5)


# --- interp ---------------------------------------------------------------------------------------
def _distance_to_segments(s, rows):
    """The smallest distance from point s to a segment between two of ``rows`` and that pair."""
    best = (np.inf, None)
    for i in range(len(rows)):
        for j in range(len(rows)):
            if i == j:
                continue
            d = rows[j] - rows[i]
            u = np.clip(np.dot(s - rows[i], d) / max(np.dot(d, d), 1e-12), 0, 1)
            dist = np.linalg.norm(s - (rows[i] + u * d))
            if dist < best[0]:
                best = (dist, (i, j))
    return best


@pytest.mark.parametrize("k", [None, 1])
def test_interp_samples_lie_on_segments_between_two_rows_of_their_bin(k):
    rng = np.random.default_rng(0)
    Z = np.concatenate([rng.normal(size=(6, 3)), rng.normal(size=(5, 3)) + 10])
    c = np.repeat([0.0, 1.0], [6, 5])
    g = FeatureInterp({"k_neighbors": k}, random_state=0).fit(Z, c)
    S = g.sample(np.repeat([0.0, 1.0], 40), random_state=3).astype(np.float64)
    for s, label in zip(S, np.repeat([0.0, 1.0], 40), strict=True):
        rows = Z[c == label]
        dist, (i, j) = _distance_to_segments(s, rows)
        assert dist < 1e-4  # on a segment of its own bin (the other bin is 10 away)
        if k == 1:  # j is i's nearest neighbour (or i is j's, for a point near the middle)
            z = (rows - Z.mean(0)) / Z.std(0)
            nn = nearest_others(z, 1)[:, 0]
            assert nn[i] == j or nn[j] == i
    assert len({tuple(s) for s in S}) == len(S)  # fresh points, not copies


def test_nearest_others_never_names_the_row_itself():
    z = np.array([[0.0], [0.0], [0.0], [1.0]])  # duplicates
    nn = nearest_others(z, 2)
    assert nn.shape == (4, 2) and all(r not in nn[r] for r in range(4))
    assert nearest_others(z[:2], 5).shape == (2, 1)  # k capped at n - 1


# --- borrowing ------------------------------------------------------------------------------------
def test_borrowing_takes_only_the_missing_rows_evenly_from_the_nearest_bins():
    conditions = np.array([0.0, 1.0, 2.0, 3.0])
    rows_of = [np.arange(0, 50), np.arange(50, 53), np.arange(53, 103), np.arange(103, 203)]
    rng = np.random.default_rng(0)
    own, more = borrowed_rows(1.0, conditions, rows_of, 10, rng)
    np.testing.assert_array_equal(own, [50, 51, 52])
    assert more.size == 7 and len(set(more)) == 7  # 10 - 3, without replacement
    assert np.sum(more < 50) == 4 and np.sum((more >= 53) & (more < 103)) == 3  # 0 and 2 share
    # a neighbour with too few rows gives all it has, the rest comes from the other side
    rows_of = [np.array([0]), np.arange(1, 3), np.arange(3, 100)]
    own, more = borrowed_rows(1.0, np.array([0.0, 1.0, 2.0]), rows_of, 10, rng)
    assert 0 in more and np.sum(more >= 3) == 7
    # the next distance only when the nearest cannot fill the need; enough rows: nothing
    own, more = borrowed_rows(0.0, np.array([0.0, 1.0, 3.0]), [np.array([0]), np.array([1]),
                              np.arange(2, 40)], 5, rng)  # fmt: skip
    assert set(more) >= {1} and more.size == 4 and np.all(more[more != 1] >= 2)
    assert borrowed_rows(3.0, np.array([0.0, 1.0, 3.0]), [np.array([0]), np.array([1]),
                         np.arange(2, 40)], 5, rng)[1].size == 0  # fmt: skip
    # a condition no row has (an empty bin) borrows all of its rows
    own, more = borrowed_rows(1.5, conditions, [np.arange(0, 50), np.arange(50, 53),
                              np.arange(53, 103), np.arange(103, 203)], 6, rng)  # fmt: skip
    assert own.size == 0 and more.size == 6 and np.all((more >= 50) & (more < 103))


@pytest.mark.parametrize("name", ["gaussian", "interp"])
def test_tiny_bins_borrow_and_sample_deterministically(name):
    rng = np.random.default_rng(1)
    Z = np.concatenate([rng.normal(size=(40, 4)), rng.normal(size=(1, 4)) + 3.0])
    c = np.repeat([0.0, 1.0], [40, 1])  # bin 1: one row
    g = GENERATORS[name](random_state=0).fit(Z, c)
    need = g.config.min_rows
    np.testing.assert_array_equal(g.bin_sizes_, [40, 1])
    np.testing.assert_array_equal(g.borrowed_, [0, need - 1])
    y = np.array([1.0, 0.0, 1.0, 0.5])  # 0.5 was never seen: an empty bin, all borrowed
    a, b = g.sample(y, random_state=7), g.sample(y, random_state=7)
    assert a.dtype == np.float32 and a.shape == (4, 4) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, g.sample(y, random_state=8))
    refit = GENERATORS[name](random_state=0).fit(Z, c)
    np.testing.assert_array_equal(a, refit.sample(y, random_state=7))


@pytest.mark.parametrize("cls", [FeatureGaussian, FeatureInterp])
def test_bad_input_is_refused_by_name(cls, tmp_path):
    Z, c = np.ones((5, 2)), np.arange(5.0)
    with pytest.raises(ValueError, match="2-D"):
        cls().fit(np.ones(5), c)
    with pytest.raises(ValueError, match="non-finite"):
        cls().fit(np.array([[np.nan, 1.0]] * 5), c)
    with pytest.raises(ValueError, match="different lengths"):
        cls().fit(Z, c[:4])
    with pytest.raises(ValueError, match="at least 2"):
        cls().fit(Z[:1], c[:1])
    with pytest.raises(RuntimeError, match="not fitted"):
        cls().sample([0.0])
    g = cls().fit(Z, c)
    with pytest.raises(ValueError, match="batch_size"):
        g.sample([0.0], batch_size=0)
    with pytest.raises(ValueError, match="random_state"):
        g.sample([0.0], random_state=1.5)
    with pytest.raises(ValueError, match="non-finite|finite"):
        g.sample([np.inf])
    with pytest.raises(ValueError, match="nothing trained to export"):
        g.export(tmp_path / "g.safetensors")
    assert not cls.trains and g.sample([], random_state=0).shape == (0, 2)
    with pytest.raises(SettingError, match="min_rows = 1"):
        cls({"min_rows": 1})


def test_settings_are_typed():
    with pytest.raises(SettingError, match="shrinkage = 'ridge'"):
        GaussianConfig(shrinkage="ridge")
    with pytest.raises(SettingError, match="k_neighbors = 0"):
        InterpConfig(k_neighbors=0)
    assert InterpConfig(k_neighbors=None).k_neighbors is None


# --- in the sampler -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gaussian", "interp"])
def test_the_sampler_allocates_generates_and_gates_with_them(name, tmp_path):
    rng = np.random.default_rng(0)
    y = rng.exponential(1.0, 400)
    Z = np.column_stack([y + rng.normal(0, 0.2, 400), rng.normal(size=400)]).astype(np.float32)
    s = LatentDiffSampler(n_bins=8, ratio=0.5, generator=name, random_state=0,
                          checkpoint_dir=tmp_path)  # fmt: skip
    Z_all, y_all = s.fit_resample(Z, y)
    assert Z_all.shape[0] == 400 + sum(r["accepted"] for r in s.report_) > 400
    assert sum(r["requested"] for r in s.report_) == 200
    assert s.generator_.name == f"feature-{name}" and not list(tmp_path.iterdir())
    again = LatentDiffSampler(n_bins=8, ratio=0.5, generator=name, random_state=0)
    np.testing.assert_array_equal(again.fit_resample(Z, y)[0], Z_all)
    with pytest.raises(ValueError, match="nothing trained"):
        s.export_generator(tmp_path / "g.safetensors")
    with pytest.raises(ValueError, match="nothing trained to start from"):
        LatentDiffSampler(generator=name, generator_from=str(tmp_path)).fit(Z, y)
    from_config = LatentDiffSampler.from_config(SamplerConfig(generator=name, n_bins=8))
    assert from_config.generator == name
    assert LatentDiffSampler.from_config(SamplerConfig()).generator == "diffusion"


# --- methods, settings, command line --------------------------------------------------------------
@pytest.fixture
def ctx(tiny_dataset, tmp_path):
    from latentdiff.encoders import make_encoder

    return RunContext(
        tiny_dataset, lambda: make_encoder("mlp"), TrainConfig(epochs=3), 0,
        sampler=SamplerConfig(n_bins=8), head=HeadConfig(epochs=4), progress=False,
        checkpoints=tmp_path / "seed-0",
    )  # fmt: skip


def test_the_methods_run_through_the_pipeline_and_combine(ctx):
    outputs = {}
    for name in ("latentdiff-gaussian", "latentdiff-interp", "latentdiff-interp+lds"):
        out, _ = ctx.run_method(name)
        outputs[name] = out
        assert out.info["generator"] == name.split("-")[1].split("+")[0]
        assert out.info["n_synthetic_accepted"] > 0
        assert set(out.info["stage_seconds"]) == {"sampler_fit", "generate_and_gate", "head"}
        assert 0 < out.info["generator_fit_seconds"] < out.info["stage_seconds"]["sampler_fit"]
        assert "generator_loss" not in out.info and len(out.info["generator_borrowed_rows"]) == 8
        for split in ("val", "test"):
            assert np.all(np.isfinite(out.predictions[split]))
    # nothing to export: no generator file among the checkpoints
    assert not list(ctx.checkpoints.glob("generator-*"))
    # latentdiff with the sampler's generator setting is latentdiff-interp
    ctx.sampler = SamplerConfig(n_bins=8, generator="interp")
    same, _ = ctx.run_method("latentdiff")
    np.testing.assert_array_equal(same.predictions["test"],
                                  outputs["latentdiff-interp"].predictions["test"])  # fmt: skip


def test_the_generator_setting_resolves_its_part_and_refuses_contradictions(tmp_path):
    def bench(methods, **sampler):
        return BenchConfig.from_dict({"data": {"dataset": "diamonds"}, "methods": methods,
                                      "sampler": sampler})  # fmt: skip

    cfg = bench(["vanilla", "latentdiff"], generator="gaussian")
    assert cfg.sampler.gaussian == GaussianConfig() and cfg.sampler.diffusion is None
    both = bench(["latentdiff", "latentdiff-interp"])
    assert both.sampler.diffusion is not None and both.sampler.interp == InterpConfig()
    assert bench(["latentdiff-tuned"]).sampler.gaussian == GaussianConfig()
    assert bench(["latentdiff-tuned"], generator="interp").sampler.diffusion is None
    with pytest.raises(SettingError, match="sampler.generator = 'gaussian'.*latentgan"):
        bench(["latentgan"], generator="gaussian")
    with pytest.raises(SettingError, match="latentdiff-interp generates with the interp"):
        bench(["latentdiff-interp"], generator="diffusion")
    with pytest.raises(SettingError, match="sampler.diffusion is set"):
        bench(["latentdiff-gaussian"], diffusion={"n_steps": 5})
    with pytest.raises(SettingError, match="generator_from.*gaussian generator.*nothing trained"):
        bench(["latentdiff-gaussian"], generator_from=str(tmp_path))
    with pytest.raises(SettingError, match="generators.*contradict"):
        BenchConfig.from_dict({
            "data": {"dataset": "diamonds"}, "methods": ["latentdiff-tuned"],
            "method_options": {"latentdiff-tuned": {"generators": ["diffusion", "gaussian"]}},
            "sampler": {"generator": "interp"},
        })  # fmt: skip
    assert get_method("latentdiff-gaussian+lds").generators() == ("gaussian",)


def test_the_generator_option(tmp_path, capsys):
    data = tmp_path / "t.csv"
    long_tailed_frame(300).to_csv(data, index=False)
    base = ["--data", str(data), "--target", "target", "--no-progress"]
    rc = main(["bench", *base, "--methods", "latentgan", "--generator", "gaussian",
               "--out", str(tmp_path / "refused")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("latentdiff: error: --generator: sampler.generator")
    assert "latentgan" in err and not (tmp_path / "refused").exists()
    rc = main(["fit", *base, "--generator", "interp", "--methods", "latentdiff-gaussian",
               "--out", str(tmp_path / "m")])  # fmt: skip
    assert rc == 2 and "--generator" in capsys.readouterr().err
    out = tmp_path / "run"
    assert main(["run", *base, "--generator", "interp", "--epochs", "2", "--out", str(out)]) == 0
    runs = json.loads((out / "runs.json").read_text())
    config = json.loads((out / "config.json").read_text())["bench"]
    assert next(r for r in runs if r["method"] == "latentdiff")["generator"] == "interp"
    assert config["sampler"]["generator"] == "interp" and config["sampler"]["diffusion"] is None


def test_the_tuned_method_chooses_the_generator_on_validation(ctx, tmp_path):
    net = ctx.vanilla()
    tune = TuneConfig(
        ratios=(0.25, 1.0), priority_weights=(0.7,), region_allocations=(), quantiles=(),
        gate_off=False, synthetic_weights=(1.0,), generators=("gaussian", "interp"),
    )  # fmt: skip
    result = Tuner(net, ctx.sampler, ctx.head, tune, 0, cache_dir=tmp_path).run()
    report = result.report
    scored = [c for c in report["candidates"] if c["generator"] is not None]
    assert {c["generator"] for c in scored} == {"gaussian", "interp"}
    assert [c["stage"] for c in scored if c["generator"] == "interp"] == ["generator"] * 2
    best = min(report["candidates"], key=lambda c: (c["val_score"], c["ratio"]))
    assert report["chosen"]["generator"] == best["generator"]
    assert report["chosen_score"] == pytest.approx(best["val_score"])
    for g in ("gaussian", "interp"):
        mine = [c["val_score"] for c in scored if c["generator"] == g]
        assert report["generators"][g]["best_val_score"] == pytest.approx(min(mine))
        assert report["generators"][g]["n_candidates"] == 2
    # --generator: the tuned method tunes with that generator alone
    assert get_method("latentdiff-tuned").generators("interp") == ("interp",)
    assert get_method("latentdiff-tuned").generators() == ("diffusion", "gaussian", "interp")
