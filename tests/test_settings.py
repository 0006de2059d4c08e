"""Typed settings: every range and choice checked when a configuration is built, with a message
naming the setting, the value and what is allowed; exact JSON round trips; settings that no
chosen method or data set uses refused; a bad setting on the command line fails fast."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import FAST_DIFFUSION

from latentdiff.data.registry import LOADERS, load_dataset
from latentdiff.params import SettingError
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import (
    BenchConfig,
    DataConfig,
    DiffusionConfig,
    GANConfig,
    HeadConfig,
    SamplerConfig,
    TrainConfig,
)

DIAMONDS = {"dataset": "diamonds"}


def _bench(**kw) -> BenchConfig:
    return BenchConfig.from_dict({"data": DIAMONDS, **kw})


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(epochs=7, lr_milestones=(3, 5), grad_clip=0.0),
        HeadConfig(loss="l1", mix_schedule="linear", mix_ratio=0.4),
        DiffusionConfig(timesteps=20, prediction="epsilon", hidden_dim=64),
        GANConfig(n_steps=10, spectral_norm=False),
        SamplerConfig(ratio=0.5, diffusion=DiffusionConfig(n_steps=3), gan={"noise_dim": 8}),
        DataConfig(dataset="csv", data="/tmp/x.csv", target="y", eval_bins=7),
    ],
    ids=lambda c: type(c).__name__,
)
def test_every_config_round_trips_through_json_exactly(config):
    again = type(config).from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.to_dict() == config.to_dict()


def test_a_bench_config_resolves_what_its_methods_use_and_round_trips():
    cfg = _bench(methods=["vanilla", "latentdiff", "rrt"], sampler={"ratio": 0.5})
    assert cfg.train == TrainConfig(epochs=60, patience=10)  # the diamonds preset
    assert cfg.sampler.ratio == 0.5 and cfg.sampler.diffusion == DiffusionConfig()
    assert cfg.sampler.gan is None and cfg.head == HeadConfig() and cfg.encoder == "mlp"
    assert BenchConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    plain = _bench(methods=["vanilla", "lds"])
    assert plain.sampler is None and plain.head is None
    gan = _bench(methods=["latentgan"])
    assert gan.sampler.gan == GANConfig() and gan.sampler.diffusion is None


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"sampler": {"ratio": 500}}, "sampler.ratio = 500 is not allowed: a number in [0, 100]"),
        (
            {"sampler": {"diffusion": {"timesteps": 10**6}}},
            "sampler.diffusion.timesteps = 1000000 is not allowed: an integer in [1, 10000]",
        ),
        ({"sampler": {"diffusion": {"bogus": 1}}}, "unknown setting sampler.diffusion.bogus"),
        ({"sampler": {"n_bins": 2.5}}, "sampler.n_bins = 2.5 is not allowed: an integer >= 1"),
        ({"sampler": {"gate": 1}}, "sampler.gate = 1 is not allowed: true or false"),
        ({"sampler": {"quantile": "0.9"}}, "sampler.quantile = '0.9' is not allowed"),
        ({"sampler": {"small_bin_rule": "x"}}, "one of 'pool', 'accept', 'reject'"),
        ({"head": {"mix_ratio": 1.0}}, "head.mix_ratio = 1.0 is not allowed: a number in [0, 1)"),
        ({"train": {"epochs": True}}, "train.epochs = True is not allowed"),
        ({"seeds": [0, 0]}, "seeds = [0, 0] is not allowed"),
        ({"bogus": 1}, "unknown setting bogus; the settings of BenchConfig are data, methods"),
    ],
)
def test_a_wrong_setting_is_refused_by_name_with_what_is_allowed(settings, message):
    with pytest.raises(SettingError) as e:
        _bench(methods=["vanilla", "latentdiff"], **settings)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "methods, settings, message",
    [
        (["vanilla", "lds"], {"sampler": {"ratio": 0.5}}, "sampler is set but none of the"),
        (["latentgan"], {"sampler": {"diffusion": {"n_steps": 9}}}, "sampler.diffusion is set"),
        (["latentdiff"], {"sampler": {"gan": {"n_steps": 9}}}, "sampler.gan is set"),
        (["vanilla"], {"head": {"epochs": 3}}, "head is set but none of the methods vanilla"),
        (["lds"], {"method_options": {"fds": {"ks": 3}}}, "method_options.fds is set but"),
        (["lds"], {"method_options": {"lds": {"kernal": "x"}}}, "lds has no option 'kernal'"),
    ],
)
def test_a_setting_no_chosen_method_uses_is_refused(methods, settings, message):
    with pytest.raises(ValueError, match=message):
        _bench(methods=methods, **settings)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"dataset": "stsb-dir", "data": "d", "eval_bins": 5}, "--eval-bins (eval_bins = 5) does"),
        ({"dataset": "stsb-dir", "data": "d", "target": "t"}, "--target (target = 't') does not"),
        ({"dataset": "agedb-dir", "data": "a.csv", "image_root": "i", "max_train": 9}, "max-tr"),
        ({"dataset": "california-housing"}, "california-housing needs --data"),
        ({"dataset": "diamonds", "data": "x.csv"}, "does not apply to diamonds"),
        ({"dataset": "diamonds", "regions": "official"}, "regions = 'official' does not apply"),
        ({"dataset": "mnist"}, "unknown data set 'mnist'"),
    ],
)
def test_a_loader_parameter_that_does_not_apply_is_refused(data, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DataConfig(**data)


def test_the_python_loader_refuses_what_does_not_apply_too():
    with pytest.raises(ValueError, match="does not apply to stsb-dir"):
        load_dataset("stsb-dir", "somewhere", eval_bins=10)
    assert LOADERS["stsb-dir"].default_regions == "official"  # from Python as from the CLI


def test_the_sampler_checks_its_settings_by_name_before_training():
    Z, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60.0)
    with pytest.raises(SettingError, match="unknown setting diffusion.bogus"):
        LatentDiffSampler(diffusion={"bogus": 1}).fit(Z, y)
    with pytest.raises(SettingError, match=r"ratio = -1 is not allowed"):
        LatentDiffSampler(ratio=-1, diffusion=FAST_DIFFUSION).fit(Z, y)


def test_an_old_run_directory_is_refused_with_a_clear_message(tmp_path):
    from latentdiff.rundir import read_run_config

    (tmp_path / "config.json").write_text(json.dumps({"bench": {"dataset": "diamonds"}}))
    with pytest.raises(ValueError, match="older latentdiff .config format 1.*start a new run"):
        read_run_config(tmp_path)
    # format 2 (before issue 11) lacks the early-stopping and sampler-step settings, whose new
    # defaults would silently fill in a resumed run
    (tmp_path / "config.json").write_text(json.dumps({"format": 2, "bench": {"seeds": [0]}}))
    with pytest.raises(ValueError, match="config format 2, this one writes 3"):
        read_run_config(tmp_path)


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--ratio", "500"], "--ratio: sampler.ratio = 500.0 is not allowed"),
        (["--timesteps", "1000000"], "--timesteps: sampler.diffusion.timesteps = 1000000"),
        (["--diffusion-option", "bogus=1"], "--diffusion-option: unknown setting sampler"),
        (["--methods", "vanilla", "--ratio", "0.5"], "--ratio: sampler is set but none"),
    ],
)
def test_a_bad_setting_fails_fast_in_one_line_with_exit_code_2(tmp_path, args, flag):
    missing = tmp_path / "not-read.csv"  # refused before any data is read
    cmd = [sys.executable, "-m", "latentdiff.cli", "bench", "--data", str(missing), "--dataset",
           "csv", "--target", "y", "--out", str(tmp_path / "o"), *args]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("latentdiff: error: ") and flag in lines[0]
    # "fast": refused before the (missing) data file is read and before the run directory is
    # made; no wall-clock bound (speed lives in benchmarks, and this one failed under load)
    assert "Traceback" not in run.stderr and not (tmp_path / "o").exists()
