"""The feature-quality analysis (issue 13, point 1; seed 000 appendix C): each number against a
hand computation or an independent library, the figures' data against what they should draw,
and the files a benchmark run keeps for it (bounded, resumed identically)."""

import json
import shutil

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance
from sklearn.decomposition import PCA
from sklearn.metrics import r2_score

from latentdiff.analysis.activations import activation_table
from latentdiff.analysis.divergence import (
    HIST_BINS,
    SMOOTHING,
    dimension_divergences,
    divergence_table,
)
from latentdiff.analysis.figures import (
    figures,
    hexbin_figure,
    label_histogram,
    per_bin_figure,
    projection,
)
from latentdiff.analysis.frechet import frechet
from latentdiff.analysis.neighbours import nearest_other_real, nearest_real
from latentdiff.analysis.quality import MIN_ROWS, feature_quality
from latentdiff.analysis.run import analyse_run
from latentdiff.analysis.sample import (
    AnalysisFile,
    FeatureSample,
    bin_quota,
    save_analysis_file,
)
from latentdiff.analysis.similarity import cosine_table
from latentdiff.bench import run_bench
from latentdiff.binning import Bins, ShotRegions
from latentdiff.cli import main
from latentdiff.featurefile import FeatureFile, FeatureWriter
from latentdiff.params import SettingError
from latentdiff.settings import BenchConfig, HeadConfig, SamplerConfig, TrainConfig


# --- the sample -----------------------------------------------------------------------------------
def test_bin_quota_keeps_small_bins_whole_and_levels_the_large_ones():
    assert bin_quota([3, 50, 7, 0], 100).tolist() == [3, 50, 7, 0]  # under the cap: all
    q = bin_quota([3, 50, 7, 100], 40)  # level L = 15: 3 + 15 + 7 + 15 = 40
    assert q.tolist() == [3, 15, 7, 15]
    q = bin_quota([3, 50, 7, 100], 41)  # L = 15 still (L = 16 would take 42)
    assert q.sum() <= 41 and q.tolist() == [3, 15, 7, 15]
    assert bin_quota([5, 5], 0).tolist() == [0, 0]


def _bins_and_rows(seed=0, n=400, m=6):
    rng = np.random.default_rng(seed)
    y = rng.exponential(1.0, n)
    bins = Bins.fit(y, n_bins=5)
    Z = (rng.normal(size=(n, m)) + y[:, None]).astype(np.float32)
    return bins, Z, y


def test_sample_is_bin_balanced_seeded_and_reads_a_feature_file(tmp_path):
    bins, Z, y = _bins_and_rows()
    counts = bins.counts(y)
    y_syn = np.repeat(bins.centers, 30)
    Z_syn = np.random.default_rng(1).normal(size=(y_syn.size, Z.shape[1])).astype(np.float32)
    s = FeatureSample.take(Z, y, Z_syn, y_syn, bins, bins.centers, cap=100, seed=3)
    assert np.bincount(s.real_bin, minlength=5).tolist() == bin_quota(counts, 100).tolist()
    assert np.bincount(s.syn_bin, minlength=5).tolist() == [20] * 5
    assert s.meta["real_counts"] == counts.tolist() and s.meta["syn_counts"] == [30] * 5
    assert s.real_z.dtype == np.float32 and len(s.real_y) <= 100
    # the rows kept are rows of the input, with their own labels and bins
    i = np.flatnonzero((Z == s.real_z[0]).all(axis=1))[0]
    assert y[i] == s.real_y[0] and bins.assign(y[i : i + 1])[0] == s.real_bin[0]
    again = FeatureSample.take(Z, y, Z_syn, y_syn, bins, bins.centers, cap=100, seed=3)
    np.testing.assert_array_equal(again.syn_z, s.syn_z)
    other = FeatureSample.take(Z, y, Z_syn, y_syn, bins, bins.centers, cap=100, seed=4)
    assert not np.array_equal(other.real_y, s.real_y)
    fewer = FeatureSample.take(Z, y, Z_syn[:40], y_syn[:40], bins, bins.centers, cap=100, seed=3,
                               Z_test=Z, y_test=y)  # fmt: skip
    again = FeatureSample.take(Z, y, Z_syn, y_syn, bins, bins.centers, cap=100, seed=3,
                               Z_test=Z, y_test=y)  # fmt: skip
    np.testing.assert_array_equal(fewer.real_y, again.real_y)  # whatever the synthetic count,
    np.testing.assert_array_equal(fewer.test_y, again.test_y)  # the same real and held-out rows
    with FeatureWriter(tmp_path / "syn.npy", Z.shape[1]) as w:
        w.append(Z_syn)
    streamed = FeatureSample.take(Z, y, FeatureFile(tmp_path / "syn.npy"), y_syn, bins,
                                  bins.centers, cap=100, seed=3)  # fmt: skip
    np.testing.assert_array_equal(streamed.syn_z, s.syn_z)


def test_analysis_file_round_trip(tmp_path):
    bins, Z, y = _bins_and_rows()
    s = FeatureSample.take(Z, y, Z[:10], y[:10], bins, bins.centers, cap=50, seed=0)
    path = save_analysis_file(tmp_path / "a.safetensors", [1.0, 2.0], [1.5, 2.5], s, {"x": 1})
    f = AnalysisFile.read(path)
    assert f.test_pred.tolist() == [1.0, 2.0] and f.meta["x"] == 1
    for k in ("real_z", "real_y", "real_bin", "syn_z", "syn_y", "syn_bin"):
        np.testing.assert_array_equal(getattr(f.sample, k), getattr(s, k))
    assert f.sample.meta == s.meta
    bare = AnalysisFile.read(save_analysis_file(tmp_path / "b.safetensors", [1.0], [1.0], None, {}))
    assert bare.sample is None


# --- the numbers ----------------------------------------------------------------------------------
def test_cosine_table_by_hand():
    real = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    syn = np.array([[2.0, 0.0], [0.0, 1.0]])
    h = 1 / np.sqrt(2)
    rr = [h, 0.0, h]  # pairs (0,1), (0,2), (1,2)
    rs = [1.0, 0.0, h, h, 0.0, 1.0]
    t = cosine_table(real, syn)
    assert t["real_real"]["mean"] == pytest.approx(np.mean(rr))
    assert t["real_real"]["std"] == pytest.approx(np.std(rr)) and t["real_real"]["pairs"] == 3
    assert t["syn_syn"]["mean"] == pytest.approx(0.0) and t["syn_syn"]["pairs"] == 1
    assert t["real_syn"]["mean"] == pytest.approx(np.mean(rs)) and t["real_syn"]["pairs"] == 6


def test_nearest_real_neighbour_and_label_gap_by_hand():
    real = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y_real = np.array([1.0, 5.0, 3.0])
    syn = np.array([[3.0, 0.1], [0.2, 2.0]])
    dist, gap = nearest_real(real, y_real, syn, np.array([2.0, 2.0]))
    assert gap.tolist() == [1.0, 3.0]  # neighbours: real 0 (label 1), real 1 (label 5)
    expected = [1 - 3 / np.hypot(3, 0.1), 1 - 2 / np.hypot(0.2, 2)]
    np.testing.assert_allclose(dist, expected, atol=1e-12)
    own = nearest_other_real(real)  # 0 and 1 are nearest to 2 (cos 1/sqrt 2), 2 to either
    np.testing.assert_allclose(own, [1 - 1 / np.sqrt(2)] * 3, atol=1e-12)


def test_activation_correlations_match_numpy():
    rng = np.random.default_rng(0)
    real = rng.gamma(2.0, size=(300, 12))
    syn = real[:200] * 1.1 + rng.normal(0, 0.1, size=(200, 12))
    t = activation_table(real, syn)
    r_mean = np.corrcoef(real.mean(0), syn.mean(0))[0, 1]
    r_std = np.corrcoef(real.std(0), syn.std(0))[0, 1]
    assert t["mean_correlation"] == pytest.approx(r_mean)
    assert t["std_correlation"] == pytest.approx(r_std)
    assert t["mean_abs_difference"] == pytest.approx(np.abs(real.mean(0) - syn.mean(0)).mean())
    assert activation_table(real[:1], syn[:1])["std_correlation"] is None  # all stds 0


def test_divergences_against_scipy_and_by_hand():
    a = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 2.0])
    b = np.array([0.0, 1.0, 2.0, 2.0])
    d = dimension_divergences(a, b, bins=2)  # edges 0, 1, 2: a -> [2, 4], b -> [1, 3]
    p, q = np.array([2, 4]) / 6 + SMOOTHING, np.array([1, 3]) / 4 + SMOOTHING
    p, q = p / p.sum(), q / q.sum()
    assert d["kl"] == pytest.approx(float(np.sum(p * np.log(p / q))))
    m = (p + q) / 2
    js = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))
    assert d["js"] == pytest.approx(js)
    assert d["js"] == pytest.approx(distance.jensenshannon(p, q) ** 2)
    assert d["wasserstein"] == pytest.approx(stats.wasserstein_distance(a, b))
    # identical samples: every divergence 0; the table averages dimensions
    x = np.random.default_rng(0).normal(size=(50, 3))
    assert divergence_table(x, x) == pytest.approx({"kl": 0.0, "js": 0.0, "wasserstein": 0.0})
    shifted = divergence_table(x, x + [0.0, 1.0, 2.0])
    assert shifted["wasserstein"] == pytest.approx(1.0)  # (0 + 1 + 2) / 3
    assert shifted["kl"] > 0 and 0 < shifted["js"] <= np.log(2)
    assert HIST_BINS == 20


def test_frechet_of_identical_and_shifted_gaussians():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))
    assert frechet(x, x) == pytest.approx(0.0, abs=1e-8)
    y = rng.normal(size=(4000, 3))  # same Gaussian, another draw: sampling error only
    assert frechet(x, y) < 0.02
    assert frechet(x, x + [2.0, 0.0, 0.0]) == pytest.approx(4.0, rel=1e-6)
    with pytest.raises(ValueError, match="two rows"):
        frechet(x[:1], y)


def test_feature_quality_groups_bins_and_regions():
    bins, Z, y = _bins_and_rows(n=600)
    y_syn = np.repeat(bins.centers[:3], [8, 8, 3])  # bin 2 has fewer than MIN_ROWS synthetic
    Z_syn = np.random.default_rng(2).normal(size=(y_syn.size, Z.shape[1])).astype(np.float32)
    regions = ShotRegions.from_training_labels(y, bins)
    _, Z_test, y_test = _bins_and_rows(seed=5, n=200)  # held-out rows of the same kind
    s = FeatureSample.take(Z, y, Z_syn, y_syn, bins, bins.centers, 10_000, 0, regions=regions,
                           Z_test=Z_test, y_test=y_test)  # fmt: skip
    q = feature_quality(s)
    ref = [b["reference"] for b in q["bins"]]
    assert [r["n_test"] for r in ref] == bins.counts(y_test).tolist()
    test0 = s.test_z[s.test_bin == 0]
    assert ref[0]["frechet"] == pytest.approx(frechet(s.real_z[s.real_bin == 0], test0))
    assert q["overall"]["reference"]["n_test"] == 200
    assert [b["n_real"] for b in q["bins"]] == bins.counts(y).tolist()
    assert [b["n_syn"] for b in q["bins"]] == [8, 8, 3, 0, 0]
    assert q["bins"][0]["cosine"] is not None and q["bins"][2]["cosine"] is None
    assert MIN_ROWS == 5
    real0, syn0 = s.real_z[s.real_bin == 0], s.syn_z[s.syn_bin == 0]
    assert q["bins"][0]["frechet"] == pytest.approx(frechet(real0, syn0))
    assert q["bins"][0]["cosine"] == cosine_table(real0, syn0)
    for r, g in q["regions"].items():  # a region: the bins of that region
        members = [b for b in q["bins"] if b["region"] == r]
        assert g["n_real"] == sum(b["n_real"] for b in members)
        assert g["n_syn"] == sum(b["n_syn"] for b in members)
    assert q["overall"]["n_real"] == 600 and q["overall"]["n_syn"] == 19
    gaps = q["overall"]["neighbours"]["label_gap"]
    assert gaps["n"] == 19 and gaps["mean"] == pytest.approx(
        nearest_real(s.real_z, s.real_y, s.syn_z, s.syn_y)[1].mean()
    )


# --- the figures' data ----------------------------------------------------------------------------
def test_hexbin_r2_is_sklearns():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    p1, p2 = y + rng.normal(0, 1, 200), y + rng.normal(0, 0.3, 200)
    drawn = hexbin_figure([("vanilla", y, p1), ("latentdiff", y, p2)])
    assert drawn.data["r2"] == [pytest.approx(r2_score(y, p1)), pytest.approx(r2_score(y, p2))]
    assert len(drawn.figure.axes) == 2 and "R²" in drawn.figure.axes[1].get_title()


def test_label_histogram_counts_are_the_bin_counts(tiny_dataset):
    ds = tiny_dataset
    syn_labels, syn_counts = [0.5, 3.0, 3.1], [4, 2, 1]
    d = label_histogram(ds.regions.to_dict(), ds.eval_bins.counts(ds.train.y), syn_labels,
                        syn_counts).data  # fmt: skip
    assert d["real_counts"] == ds.eval_bins.counts(ds.train.y).tolist()
    assert d["edges"] == pytest.approx(ds.eval_bins.edges.tolist())
    expected = np.zeros(ds.eval_bins.n_bins, int)
    np.add.at(expected, ds.eval_bins.assign(np.array(syn_labels)), syn_counts)
    assert d["syn_counts"] == expected.tolist() and sum(d["syn_counts"]) == 7
    fig = label_histogram(ds.regions.to_dict(), d["real_counts"]).figure
    heights = [p.get_height() for p in fig.axes[0].containers[0]]  # the bars drawn
    assert heights == d["real_counts"] and len(fig.axes[0].containers) == 1  # no synthetic


def test_projections_draw_what_pca_and_tsne_give():
    bins, Z, y = _bins_and_rows(n=120)
    s = FeatureSample.take(Z, y, Z[:30] + 0.1, y[:30], bins, bins.centers, 1000, 0)
    d = projection(s, "pca").data
    pca = PCA(n_components=6, random_state=0).fit(np.concatenate([s.real_z, s.syn_z]).astype(float))
    assert d["explained_variance_ratio"] == pytest.approx(pca.explained_variance_ratio_.tolist())
    assert d["coords"].shape == (150, 2) and d["synthetic"].sum() == 30
    t = projection(s, "tsne", limit=60).data
    assert t["coords"].shape == (60, 2) and t["synthetic"].sum() == 30
    with pytest.raises(ValueError, match="unknown projection"):
        projection(s, "umap")


def test_per_bin_figure_draws_the_bins_values():
    bins = [
        {"label": 1.0, "low": 0, "high": 2, "region": "many", "frechet": 0.5,
         "divergence": {"kl": 1.0, "js": 0.1, "wasserstein": 0.2}},
        {"label": 3.0, "low": 2, "high": 4, "region": "few", "frechet": None, "divergence": None},
    ]  # fmt: skip
    d = per_bin_figure(bins).data
    assert d["kl"] == [(1.0, 1.0)] and d["frechet"] == [(1.0, 0.5)] and d["js"] == [(1.0, 0.1)]


# --- a run directory ------------------------------------------------------------------------------
FAST = dict(
    seeds=(0,),
    encoder="mlp",
    encoder_options={"hidden_dims": [16]},
    train=TrainConfig(epochs=3, batch_size=64, patience=None),
    sampler=SamplerConfig(n_bins=5, ratio=0.5),
    head=HeadConfig(epochs=2, batch_size=64, patience=None),
    progress=False,
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny finished run: vanilla and latentdiff-gaussian (no generator training), 1 seed."""
    from conftest import long_tailed_frame

    from latentdiff.data.tabular import dataset_from_frame

    ds = dataset_from_frame(long_tailed_frame(), "target", name="tiny", eval_n_bins=10, cap=10)
    out = tmp_path_factory.mktemp("analysis") / "run"
    cfg = BenchConfig(methods=("vanilla", "latentdiff-gaussian"), analysis_rows=150, **FAST)
    run_bench(cfg, out, dataset=ds)
    return out, ds


def test_a_run_keeps_predictions_and_a_bounded_feature_sample(run_dir):
    out, ds = run_dir
    runs = {r["method"]: r for r in json.loads((out / "runs.json").read_text())}
    assert runs["vanilla"]["analysis"] == {"file": "analysis/seed-0/vanilla.safetensors"}
    entry = runs["latentdiff-gaussian"]["analysis"]
    assert entry["cap"] == 150 and entry["real_rows"] <= 150 and entry["synthetic_rows"] > 0
    assert entry["real_total"] == len(ds.train.y)
    assert entry["synthetic_total"] == runs["latentdiff-gaussian"]["n_synthetic_accepted"]
    f = AnalysisFile.read(out / entry["file"])
    np.testing.assert_array_equal(f.test_true, ds.test.y)
    assert f.sample.real_z.shape == (entry["real_rows"], 16)
    assert 0 < entry["test_rows"] <= 150 and f.sample.test_z.shape == (entry["test_rows"], 16)
    assert sum(f.sample.meta["test_counts"]) == len(ds.test.y)
    assert f.sample.meta["bin_regions"] is not None
    v = AnalysisFile.read(out / runs["vanilla"]["analysis"]["file"])
    records = json.loads((out / "results.json").read_text())
    mse = next(r["value"] for r in records if r["method"] == "vanilla" and r["region"] == "all"
               and r["metric"] == "mse")  # fmt: skip
    assert np.mean((v.test_pred - v.test_true) ** 2) == pytest.approx(mse)


def test_analyse_run_schema_and_values(run_dir):
    out, ds = run_dir
    result = analyse_run(out)
    assert set(result) == {"format", "dataset", "settings", "predictions", "features",
                           "summary", "missing"}  # fmt: skip
    assert result["missing"] == [] and result["dataset"] == "tiny"
    assert [(p["method"], p["seed"]) for p in result["predictions"]] == [
        ("vanilla", 0),
        ("latentdiff-gaussian", 0),
    ]
    (feat,) = result["features"]
    assert feat["method"] == "latentdiff-gaussian" and feat["generator"] == "gaussian"
    assert set(feat) >= {"overall", "regions", "bins", "real_rows", "synthetic_rows"}
    summary = {(e["group"], e["metric"]): e for e in result["summary"]}
    kl = summary[("overall", "divergence.kl")]
    assert kl["mean"] == pytest.approx(feat["overall"]["divergence"]["kl"]) and kl["seeds"] == 1
    json.dumps(result, allow_nan=False)  # plain JSON
    drawn = figures(out, "latentdiff-gaussian", tsne=False)
    assert set(drawn) == {"hexbin", "labels", "pca", "activations", "neighbours", "per_bin"}
    assert drawn["hexbin"].data["titles"] == ["vanilla", "latentdiff-gaussian"]
    assert drawn["labels"].data["real_counts"] == ds.eval_bins.counts(ds.train.y).tolist()
    r2 = {p["method"]: p["r2"] for p in result["predictions"]}
    assert drawn["hexbin"].data["r2"] == pytest.approx([r2["vanilla"], r2["latentdiff-gaussian"]])


def test_cli_analyse_writes_json_and_figures(run_dir, tmp_path, capsys):
    out, _ = run_dir
    assert main(["analyse", str(out), "--out", str(tmp_path / "a"), "--no-tsne"]) == 0
    result = json.loads((tmp_path / "a" / "analysis.json").read_text())
    assert result == json.loads(json.dumps(analyse_run(out)))
    pngs = sorted(p.name for p in (tmp_path / "a" / "figures").glob("*.png"))
    assert "latentdiff-gaussian-seed0-pca.png" in pngs and "vanilla-seed0-hexbin.png" in pngs
    assert all((tmp_path / "a" / "figures" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert "| latentdiff-gaussian | overall |" in capsys.readouterr().out
    assert main(["analyse", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "is not a run directory" in err and "Traceback" not in err


def test_a_resumed_pair_writes_the_same_file(run_dir, tmp_path):
    """A pair run again on resume (killed before runs.json recorded it) writes its analysis
    file byte for byte as the uninterrupted run did."""
    out, ds = run_dir
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    runs = json.loads((copy / "runs.json").read_text())
    (copy / "runs.json").write_text(json.dumps([r for r in runs if r["method"] == "vanilla"]))
    name = "analysis/seed-0/latentdiff-gaussian.safetensors"
    (copy / name).unlink()
    cfg = BenchConfig(methods=("vanilla", "latentdiff-gaussian"), analysis_rows=150, **FAST)
    run_bench(cfg, copy, dataset=ds, resume=True)
    assert (copy / name).read_bytes() == (out / name).read_bytes()


def test_analysis_rows_zero_keeps_predictions_only_and_the_same_results(run_dir, tmp_path,
                                                                       tiny_dataset):  # fmt: skip
    cfg = BenchConfig(methods=("latentdiff-gaussian",), analysis_rows=0, **FAST)
    run_bench(cfg, tmp_path, dataset=tiny_dataset)
    with_sample = json.loads((run_dir[0] / "results.json").read_text())
    without = json.loads((tmp_path / "results.json").read_text())
    assert without == [r for r in with_sample if r["method"] == "latentdiff-gaussian"]
    (entry,) = json.loads((tmp_path / "runs.json").read_text())
    assert set(entry["analysis"]) == {"file"}
    assert AnalysisFile.read(tmp_path / entry["analysis"]["file"]).sample is None
    assert analyse_run(tmp_path)["features"] == []
    with pytest.raises(SettingError, match="analysis_rows"):
        BenchConfig(methods=("vanilla",), analysis_rows=-1)


def test_cli_refuses_a_negative_analysis_rows_before_reading_data(tmp_path, capsys):
    args = ["bench", "--data", str(tmp_path / "absent.csv"), "--target", "y", "--out",
            str(tmp_path / "run"), "--analysis-rows", "-1"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--analysis-rows" in err and "Traceback" not in err


def test_tuned_and_auto_keep_the_features_of_their_choice(tiny_dataset):
    from latentdiff.encoders import make_encoder
    from latentdiff.methods import RunContext

    tune = {"generators": ["gaussian"], "ratios": [0.5], "priority_weights": [0.7],
            "region_allocations": [], "quantiles": [0.9], "synthetic_weights": [1.0],
            "splits": []}  # fmt: skip
    ctx = RunContext(tiny_dataset, lambda: make_encoder("mlp", hidden_dims=[16]), FAST["train"],
                     0, sampler=FAST["sampler"], head=FAST["head"], progress=False,
                     analysis_rows=100)  # fmt: skip
    options = {"latentdiff-tuned": tune}
    out, _ = ctx.run_method("latentdiff-tuned", options)
    s = out.analysis
    assert s.meta["generator"] == "gaussian"
    assert sum(s.meta["syn_counts"]) == out.info["n_synthetic_accepted"]
    assert len(s.real_y) <= 100 and len(s.test_y) <= 100
    auto = {"auto": {"candidates": ["vanilla", "latentdiff-gaussian"], "guard": False}}
    auto_out, _ = ctx.run_method("auto", auto)
    chosen = auto_out.info["auto"]["chosen"]
    assert auto_out.analysis is ctx.run_method(chosen)[0].analysis  # None for vanilla
    assert ctx.run_method("latentdiff-gaussian")[0].analysis is not None
