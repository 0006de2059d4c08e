"""Transfer of a trained generator (CoDSA, seed 001, app. A; issue 10): export, start a new fit
from the export and fine-tune it (every parameter or the documented head), refusals that name
what differs, resumable fine-tuning, and the foreign-checkpoint refusal kept for resuming."""

import json
import warnings

import numpy as np
import pytest
import torch
from conftest import FAST_DIFFUSION

from latentdiff.bench import run_bench
from latentdiff.cli import main
from latentdiff.generators import base as G
from latentdiff.generators.diffusion import FeatureDiffusion
from latentdiff.generators.gan import FeatureGAN
from latentdiff.generators.transfer import load_pretrained, resolve_source
from latentdiff.io import load_state
from latentdiff.params import SettingError
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import (
    BenchConfig,
    DiffusionConfig,
    GANConfig,
    HeadConfig,
    SamplerConfig,
    TrainConfig,
)

CFG = DiffusionConfig(n_steps=30, hidden_dim=32, n_blocks=1, embed_dim=8, batch_size=32)
GAN_CFG = GANConfig(n_steps=30, hidden_dim=32, d_hidden_dim=32, embed_dim=8, batch_size=32)
MODELS = {"diffusion": (FeatureDiffusion, CFG), "gan": (FeatureGAN, GAN_CFG)}


def _data(seed=0, n=200, m=4, shift=0.0):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 3, n).astype(float) + shift
    return (rng.normal(size=(n, m)) + c[:, None]).astype(np.float32), c


@pytest.fixture
def exported(tmp_path):
    """A tiny diffusion model trained on 200 rows and exported."""
    Z, c = _data()
    path = tmp_path / "generator-latentdiff.safetensors"
    FeatureDiffusion(CFG, random_state=3, progress=False).fit(Z, c).export(path)
    return path


def test_export_is_read_back_and_a_sampler_fine_tunes_from_it(tmp_path):
    Z, y = _data(n=300, m=6)
    cfg = dict(n_bins=3, ratio=0.5, diffusion=CFG)
    source = LatentDiffSampler(**cfg, random_state=0).fit(Z, y)
    path = source.export_generator(tmp_path / "g.safetensors")
    pre = load_pretrained(path)
    assert pre.n_features == 6 and pre.meta["generator"] == "feature-diffusion"
    assert pre.meta["label_range"] == [0.0, 2.0] and len(pre.meta["bin_edges"]) == 4
    assert set(pre.modules) == {"net"}  # the EMA weights the source sampled with
    ema = source.generator_.sampling_network_.state_dict()
    assert all(torch.equal(ema[k], pre.modules["net"][k]) for k in ema)
    raw = source.generator_.denoiser_.state_dict()
    assert not all(torch.equal(raw[k], ema[k]) for k in raw)  # EMA, not the raw weights
    # the target: 60 other rows of the same kind of data
    Z2, y2 = _data(seed=1, n=60, m=6)
    target = LatentDiffSampler(**cfg, random_state=1, generator_from=str(path)).fit(Z2, y2)
    g = target.generator_
    assert g.transfer_["from"] == str(path) and g.transfer_["fine_tune"] == "full"
    assert g.transfer_["frozen_parameters"] == 0
    # conditions standardised as the source did, features with the target's own statistics
    assert (g.c_mean_, g.c_std_) == (source.generator_.c_mean_, source.generator_.c_std_)
    assert np.allclose(g.z_mean_, Z2.mean(axis=0))
    Z_syn, y_syn = target.generate()
    assert Z_syn.shape[1] == 6 and np.all(np.isfinite(Z_syn))
    # the fine-tuned weights started from the pretrained ones, not from a fresh draw
    fresh = LatentDiffSampler(**cfg, random_state=1).fit(Z2, y2).generator_.denoiser_
    tuned, first = g.denoiser_.state_dict(), fresh.state_dict()
    assert not torch.equal(tuned["out_proj.weight"], first["out_proj.weight"])


@pytest.mark.parametrize("kind", list(MODELS))
def test_head_fine_tuning_changes_only_the_documented_parameters(tmp_path, kind):
    model, cfg = MODELS[kind]
    Z, c = _data()
    path = tmp_path / "g.safetensors"
    model(cfg, random_state=3, progress=False).fit(Z, c).export(path)
    pre = load_pretrained(path)
    Z2, c2 = _data(seed=1)
    g = model(cfg, random_state=4, progress=False, init_from=path, fine_tune="head").fit(Z2, c2)
    for name, module in g.trained_modules_.items():
        if name == g.ema_module:  # the raw trained network, not its average
            module = g.denoiser_ if kind == "diffusion" else g.generator_
        prefixes = model.head_parameters.get(name)
        after = module.state_dict()
        trained = dict(module.named_parameters())
        for key, before in pre.modules[name].items():
            if key not in trained:
                continue  # buffers (spectral-norm vectors) are not parameters
            in_head = prefixes is None or key.startswith(prefixes)
            assert torch.equal(after[key], before) != in_head, (name, key)
    assert g.transfer_["frozen_parameters"] > 0 and g.transfer_["trained_parameters"] > 0
    if kind == "diffusion":  # the documented layers: the denoiser's ends
        assert g.trained_parameters_["net"] == [
            n for n, _ in g.denoiser_.named_parameters()
            if n.split(".")[0] in ("input_proj", "label_embed", "out_norm", "out_proj")
        ]  # fmt: skip
        assert not any(
            n.startswith(("blocks.", "time_embed.")) for n in g.trained_parameters_["net"]
        )


def test_other_feature_dimension_is_refused_naming_both(exported):
    Z, c = _data(m=8)
    with pytest.raises(ValueError, match=r"trained on 4-d features, this fit's features are 8-d"):
        FeatureDiffusion(CFG, progress=False, init_from=exported).fit(Z, c)


def test_other_kind_or_shape_is_refused_naming_the_setting(exported):
    Z, c = _data()
    with pytest.raises(ValueError, match="is a feature-diffusion, not a feature-gan"):
        FeatureGAN(GAN_CFG, progress=False, init_from=exported).fit(Z, c)
    wider = CFG.replace(hidden_dim=64)
    with pytest.raises(ValueError, match=r"has hidden_dim = 32, this fit's setting is 64"):
        FeatureDiffusion(wider, progress=False, init_from=exported).fit(Z, c)
    other_process = CFG.replace(timesteps=20)
    with pytest.raises(ValueError, match=r"has timesteps = 50"):
        FeatureDiffusion(other_process, progress=False, init_from=exported).fit(Z, c)
    # training settings are the target's own: fewer steps, another learning rate
    g = FeatureDiffusion(CFG.replace(n_steps=5, lr=1e-4), progress=False, init_from=exported)
    assert len(g.fit(Z, c).loss_history_) == 5


def test_label_range_rule(exported):
    Z, c = _data()
    with pytest.raises(ValueError, match=r"conditions \(labels\) in \[0, 2\]; this fit's are in "
                       r"\[10, 12\], outside it entirely"):  # fmt: skip
        FeatureDiffusion(CFG, progress=False, init_from=exported).fit(Z, c + 10)
    with pytest.warns(UserWarning, match=r"in \[0, 2\]; this fit's are in \[1, 3\]"):
        FeatureDiffusion(CFG, progress=False, init_from=exported).fit(Z, c + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside the range: no warning
        FeatureDiffusion(CFG, progress=False, init_from=exported).fit(Z[c < 2], c[c < 2])


def test_a_file_that_is_not_an_export_is_refused(tmp_path, exported):
    Z, c = _data()
    ckpt = tmp_path / "diffusion.safetensors"
    FeatureDiffusion(CFG, random_state=3, progress=False, checkpoint=ckpt).fit(Z, c)
    with pytest.raises(ValueError, match="is not an exported generator"):
        FeatureDiffusion(CFG, progress=False, init_from=ckpt).fit(Z, c)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        FeatureDiffusion(CFG, progress=False, init_from=junk).fit(Z, c)
    with pytest.raises(ValueError, match="is a folder: give an exported generator file"):
        FeatureDiffusion(CFG, progress=False, init_from=tmp_path).fit(Z, c)
    with pytest.raises(ValueError, match="needs a pretrained generator"):
        FeatureDiffusion(CFG, fine_tune="head")


def test_fine_tuning_resumes_bit_identical_and_foreign_checkpoints_stay_refused(
    tmp_path, monkeypatch, exported
):
    Z, c = _data(seed=1)
    kw = dict(random_state=5, progress=False, init_from=exported, fine_tune="head")
    full = FeatureDiffusion(CFG, **kw).fit(Z, c)
    path = tmp_path / "diffusion.safetensors"
    real = G.save_state

    def save_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(G, "save_state", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        FeatureDiffusion(CFG, **kw, checkpoint=path, checkpoint_every=7).fit(Z, c)
    monkeypatch.undo()
    assert load_state(path, None)[1]["step"] == 7
    resumed = FeatureDiffusion(CFG, **kw, checkpoint=path, checkpoint_every=7).fit(Z, c)
    assert resumed.resumed_from_step_ == 7
    a, b = full.denoiser_.state_dict(), resumed.denoiser_.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert full.loss_history_ == resumed.loss_history_
    before = path.read_bytes()
    # the fine-tuning checkpoint is foreign to a fit without the option, to the other mode and
    # to another source; the export is foreign as a checkpoint to resume from
    other_source = tmp_path / "other.safetensors"
    FeatureDiffusion(CFG, random_state=9, progress=False).fit(*_data()).export(other_source)
    for case in (
        dict(random_state=5, progress=False),
        {**kw, "fine_tune": "full"},
        {**kw, "init_from": other_source},
    ):
        with pytest.raises(ValueError, match="made from other inputs"):
            FeatureDiffusion(CFG, **case, checkpoint=path).fit(Z, c)
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="made from other inputs"):
        FeatureDiffusion(CFG, random_state=3, progress=False, checkpoint=exported).fit(*_data())


def test_settings_and_command_line(tmp_path, exported, capsys):
    with pytest.raises(SettingError, match="fine_tune = 'head' is set but there is nothing"):
        SamplerConfig(fine_tune="head")
    with pytest.raises(SettingError, match="no such file or run directory"):
        SamplerConfig(generator_from=str(tmp_path / "missing"))
    cfg = SamplerConfig(generator_from=str(exported), fine_tune="head")
    assert SamplerConfig.from_dict(cfg.to_dict()) == cfg
    assert main(["bench", "--fine-tune", "head", "--out", str(tmp_path / "x")]) == 2
    assert "--fine-tune: sampler.fine_tune = 'head'" in capsys.readouterr().err
    assert resolve_source(exported, 0, "latentdiff") == exported
    with pytest.raises(ValueError, match="has no generator of latentdiff for seed 1"):
        resolve_source(tmp_path, 1, "latentdiff")


def test_bench_exports_and_a_second_run_fine_tunes_from_the_run_directory(tmp_path, tiny_dataset):
    common = dict(
        methods=("latentdiff",),
        seeds=(0,),
        train=TrainConfig(epochs=3, batch_size=64, patience=None),
        head=HeadConfig(epochs=2, batch_size=64, patience=None),
        progress=False,
    )
    sampler = SamplerConfig(n_bins=4, ratio=0.3, diffusion={**FAST_DIFFUSION, "n_steps": 20})
    run_bench(BenchConfig(**common, sampler=sampler), tmp_path / "a", dataset=tiny_dataset)
    export = tmp_path / "a" / "checkpoints" / "seed-0" / "generator-latentdiff.safetensors"
    assert export.is_file()  # kept when the generator's training state is removed
    assert not (tmp_path / "a" / "checkpoints" / "seed-0" / "generator").exists()
    target = sampler.replace(generator_from=str(tmp_path / "a"), fine_tune="head")
    run_bench(BenchConfig(**common, sampler=target), tmp_path / "b", dataset=tiny_dataset)
    (run,) = json.loads((tmp_path / "b" / "runs.json").read_text())
    assert run["transfer"]["from"] == str(export) and run["transfer"]["fine_tune"] == "head"
    assert set(run["generator_loss"]) == {"loss"}
