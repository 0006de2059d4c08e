"""Bad input through the Python API and the CLI: each case either raises a ValueError (or the
file error) naming the problem, or gives a correct result. Never a deep torch traceback, never
silently wrong numbers. docs/reliability.md lists these cases."""

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import FAST_DIFFUSION, SHARED_DATA

from latentdiff.augment import QualityGate, allocate
from latentdiff.binning import Bins
from latentdiff.data.base import Split
from latentdiff.data.tabular import dataset_from_frame
from latentdiff.generators.diffusion import FeatureDiffusion
from latentdiff.generators.gan import FeatureGAN
from latentdiff.metrics import shot_metrics
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import DiffusionConfig, GANConfig, HeadConfig, TrainConfig

RNG = np.random.default_rng(0)
Z = RNG.normal(size=(120, 4)).astype(np.float32)
Y = np.exp(RNG.normal(size=120))


def _sampler(**kw):
    return LatentDiffSampler(n_bins=5, diffusion=FAST_DIFFUSION, random_state=0, **kw)


def _with(arr, i, v):
    a = np.array(arr, dtype=float)
    a.flat[i] = v
    return a


# (case id, callable, expected message fragment) -- each must raise ValueError naming the problem
API_ERRORS = [
    ("nan-label-split", lambda: Split(np.zeros((3, 1)), [1.0, np.nan, 2.0]), "NaN"),
    ("nan-label-sampler", lambda: _sampler().fit(Z, _with(Y, 3, np.nan)), "NaN or inf"),
    ("inf-feature-sampler", lambda: _sampler().fit(_with(Z, 5, np.inf), Y), "NaN or inf"),
    ("constant-target", lambda: Bins.fit(np.ones(10), n_bins=5), "constant target"),
    ("single-sample", lambda: _sampler().fit(Z[:1], Y[:1]), "sample"),
    ("rows-labels-mismatch", lambda: _sampler().fit(Z[:10], Y[:11]), "10"),
    (
        "feature-dim-mismatch-gate",
        lambda: (
            QualityGate()
            .fit(Z, np.repeat(np.arange(4), 30), 4)
            .accept(Z[:, :3], np.zeros(120, int))
        ),
        "features",
    ),  # fmt: skip
    ("negative-ratio", lambda: _sampler(ratio=-0.1).fit(Z, Y), "ratio"),
    ("absurd-ratio", lambda: _sampler(ratio=1e9).fit(Z, Y), "ratio"),
    ("zero-bins", lambda: LatentDiffSampler(n_bins=0).fit(Z, Y), "n_bins"),
    ("zero-timesteps", lambda: DiffusionConfig(timesteps=0), "timesteps"),
    ("zero-batch", lambda: TrainConfig(batch_size=0), "batch_size"),
    ("negative-lr", lambda: TrainConfig(lr=-1e-3), "lr"),
    ("quantile-above-one", lambda: _sampler(quantile=1.5).fit(Z, Y), "quantile"),
    ("bad-mix-ratio", lambda: HeadConfig(mix_ratio=1.0), "mix_ratio"),
    ("allocate-negative", lambda: allocate(np.array([0.5, 0.5]), -1), "n_total"),
    ("bad-priority-weight", lambda: _sampler(priority_weight=2.0).fit(Z, Y), "lambda"),
    (
        "fewer-samples-than-bins",
        lambda: LatentDiffSampler(n_bins=200).fit(Z, Y),
        "n_bins = 200 is more than the 120 samples",
    ),
    ("absurd-bins", lambda: Bins.fit(Y, n_bins=10**15), "use fewer bins"),
    ("absurd-bin-width", lambda: Bins.fit(Y, bin_width=1e-15), "use fewer bins"),
    ("absurd-timesteps", lambda: DiffusionConfig(timesteps=10**6), "timesteps = 1000000"),
    (
        "absurd-diffusion-batch",
        lambda: FeatureDiffusion(DiffusionConfig(batch_size=10**13), progress=False).fit(Z, Y),
        "smaller batch_size",
    ),
    (
        "absurd-gan-batch",
        lambda: FeatureGAN(GANConfig(batch_size=10**13), progress=False).fit(Z, Y),
        "smaller batch_size",
    ),
]


@pytest.mark.parametrize("case, fn, msg", API_ERRORS, ids=[c[0] for c in API_ERRORS])
def test_api_refuses_bad_input_with_a_named_problem(case, fn, msg):
    with pytest.raises(ValueError, match=msg):
        fn()


def test_results_that_must_be_correct_not_errors():
    # negative, huge and tiny label ranges bin the same way up to scale and shift
    base = Bins.fit(Y, n_bins=7).assign(Y)
    for a, b in ((1.0, -1e3), (1e9, 0.0), (1e-9, 5.0)):
        assert np.array_equal(Bins.fit(a * Y + b, n_bins=7).assign(a * Y + b), base)
    # labels outside the bin range at prediction time take the end bins
    bins = Bins.fit(Y, n_bins=7)
    assert list(bins.assign([Y.min() - 5, Y.max() + 5])) == [0, 6]
    # integer labels work; the originals come back first and unchanged (synthetic labels are bin
    # centres, so the label array is float)
    yi = np.round(Y * 10).astype(np.int64)
    Zr, yr = _sampler(ratio=0.3).fit_resample(Z, yi)
    assert np.array_equal(yr[: yi.size], yi) and yr.size > yi.size
    # an empty few-shot region gives null metrics, no crash
    reg = np.array(["many"] * 60 + ["medium"] * 60, dtype=object)
    m = shot_metrics(Y, Y + 0.1, reg)
    assert m["few"]["mse"] is None and m["many"]["mse"] == pytest.approx(0.01)
    # bins with one sample: the gate still decides (pooled covariance), every value finite
    b = np.r_[np.repeat(0, 100), np.repeat(1, 19), 2]
    gate = QualityGate().fit(Z, b, 3)
    assert gate.accept(Z[:5], np.array([2, 2, 1, 0, 0])).dtype == bool


def test_mixed_type_and_missing_feature_values_are_encoded_or_refused():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0] * 40, "b": ["x", 2, "y"] * 40, "t": Y})
    with pytest.raises(ValueError, match="feature column 'b' mixes numbers and text"):
        dataset_from_frame(df, "t", name="mixed", eval_n_bins=5, cap=5)
    df = df.assign(b=["x", "z", "y"] * 40)  # text categories are one-hot encoded
    ds = dataset_from_frame(df, "t", name="cat", eval_n_bins=5, cap=5)
    assert np.isfinite(ds.train.X).all()
    df2 = df.assign(a=[np.nan] + [1.0] * 119)
    with pytest.raises(ValueError, match="feature column 'a' has 1 missing value.*refused"):
        dataset_from_frame(df2, "t", name="nan", eval_n_bins=5, cap=5, missing="refuse")
    ds2 = dataset_from_frame(df2, "t", name="nan", eval_n_bins=5, cap=5)  # imputed by default
    assert np.isfinite(ds2.train.X).all()  # never NaN into the network
    assert sum(ds2.info["imputed"]["a"].values()) == 1
    with pytest.raises(ValueError, match="feature column 'a' has 1 infinite"):
        dataset_from_frame(df2.assign(a=[np.inf] + [1.0] * 119), "t", eval_n_bins=5, cap=5)


# --- files and the CLI ------------------------------------------------------------------------


def _cli(args, capsys):
    from latentdiff.cli import main

    rc = main(args)
    return rc, capsys.readouterr().err


def test_cli_file_problems(tmp_path, capsys, tiny_frame):
    csv = tmp_path / "t.csv"
    tiny_frame.to_csv(csv, index=False)
    out = ["--out", str(tmp_path / "o"), "--no-progress"]
    cases = [
        (["--data", str(tmp_path), "--dataset", "csv", "--target", "y"], "directory"),
        (["--data", str(csv), "--target", "targt"], "targt"),
        (["--data", str(csv), "--target", "target", "--ratio", "-1"], "ratio"),
        (
            ["--data", str(csv), "--target", "target", "--n-bins", "0"],
            "--n-bins: sampler.n_bins = 0 is not allowed",
        ),
        (["--data", str(csv), "--target", "target", "--methods", "lds+"], "empty method"),
    ]
    for args, msg in cases:
        try:
            rc, err = _cli(["bench", *args, *out], capsys)
        except SystemExit as e:  # argparse's own usage errors exit 2 with a message
            rc, err = e.code, capsys.readouterr().err
        assert rc == 2, args
        assert msg in err, (args, err)


@pytest.mark.skipif(not (SHARED_DATA / "stsb-dir").is_dir(), reason="STS-B-DIR not present")
def test_truncated_stsb_tsv_is_refused(tmp_path):
    from latentdiff.data.registry import load_dataset

    for f in ("train_new.tsv", "dev_new.tsv", "test_new.tsv"):
        shutil.copy(SHARED_DATA / "stsb-dir" / f, tmp_path / f)
    text = (tmp_path / "train_new.tsv").read_text().splitlines()
    (tmp_path / "train_new.tsv").write_text("\n".join(text[:50]) + "\n" + text[50][:12] + "\n")
    with pytest.raises(ValueError, match="line 51: malformed row"):
        load_dataset("stsb-dir", str(tmp_path))


def test_missing_image_in_age_csv_is_named(tmp_path):
    from latentdiff.data.images import load_age_csv

    rows = [{"age": 20 + i % 40, "path": f"img{i}.png", "split": s}
            for i, s in enumerate(["train"] * 60 + ["val"] * 10 + ["test"] * 10)]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "ages.csv", index=False)
    with pytest.raises(FileNotFoundError, match="80 of 80 image file.*--image-root.*img0.png"):
        load_age_csv(tmp_path / "ages.csv", image_root=tmp_path)
    (tmp_path / "img0.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="79 of 80 image file.*img1.png"):
        load_age_csv(tmp_path / "ages.csv", image_root=tmp_path)
    ds = load_age_csv(tmp_path / "ages.csv", image_root=tmp_path, check_images=False)
    assert len(ds.train) == 60


def test_synthetic_count_too_large_for_memory_is_refused(monkeypatch):
    import latentdiff.memory
    from latentdiff.generators import FeatureDiffusion

    trained = []
    monkeypatch.setattr(latentdiff.memory, "available_memory", lambda: 1_000)  # bytes
    with monkeypatch.context() as m:
        m.setattr(FeatureDiffusion, "fit", lambda self, *a: trained.append(1) or self)
        with pytest.raises(ValueError, match=r"48 synthetic features of dimension 4 .*ratio"):
            _sampler(ratio=0.4).fit(Z, Y)  # 48 x 4 values x 24 bytes > 1,000 bytes
    assert not trained  # refused before the generator is trained, not after
    monkeypatch.setattr(latentdiff.memory, "available_memory", lambda: 10**9)
    sampler = _sampler(ratio=0.4).fit(Z, Y)
    monkeypatch.setattr(latentdiff.memory, "available_memory", lambda: 1_000)  # taken meanwhile
    with pytest.raises(ValueError, match="more than the"):
        sampler.generate()
    monkeypatch.setattr(latentdiff.memory, "available_memory", lambda: 10**9)
    assert sampler.generate()[0].shape[1] == 4  # the fitted sampler is intact


def test_diverged_training_is_recorded_as_a_failure_not_as_numbers(tmp_path, tiny_dataset,
                                                                   monkeypatch):  # fmt: skip
    import json

    import latentdiff.bench as B
    from latentdiff.methods.base import MethodOutput

    class Diverged:
        def run(self, ctx):
            nan = np.full(len(ctx.dataset.test), np.nan)
            return MethodOutput({"val": np.zeros(len(ctx.dataset.val)), "test": nan})

    cfg = B.BenchConfig(methods=("vanilla",), seeds=(0,), progress=False)
    import latentdiff.methods as M

    monkeypatch.setattr(M, "get_method", lambda name, options: Diverged())
    assert B.run_bench(cfg, tmp_path, dataset=tiny_dataset) == []  # no numbers recorded
    (run,) = json.loads((tmp_path / "runs.json").read_text())
    assert "NaN or inf" in run["error"] and "diverged" in run["error"]
    assert "Failed runs" in (tmp_path / "results.md").read_text()


def test_json_outputs_write_nan_as_null(tmp_path):
    import json

    from latentdiff.io import write_json

    write_json(tmp_path / "r.json", {"x": [np.float64("nan"), float("inf"), np.float32(2.0)]})
    assert json.loads((tmp_path / "r.json").read_text()) == {"x": [None, None, 2.0]}
