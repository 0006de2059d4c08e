"""Resumable training (issue 4): a diffusion fit interrupted after a checkpoint and fitted again
ends bit-identical to an uninterrupted fit; a checkpoint of other inputs is refused."""

import numpy as np
import pytest
import torch

from latentdiff.generators import base as G
from latentdiff.generators.diffusion import FeatureDiffusion
from latentdiff.generators.gan import FeatureGAN
from latentdiff.generators.pogdiff import FeaturePoGDiff
from latentdiff.io import load_state, save_state
from latentdiff.settings import DiffusionConfig, GANConfig, PoGDiffConfig

CFG = DiffusionConfig(n_steps=30, hidden_dim=32, n_blocks=1, embed_dim=8, batch_size=32)
GAN_CFG = GANConfig(n_steps=30, hidden_dim=32, d_hidden_dim=32, embed_dim=8, batch_size=32)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 3, 200).astype(float)
    return (rng.normal(size=(200, 4)) + c[:, None]).astype(np.float32), c


class _Interrupt(Exception):
    pass


def _interrupt_after_first_checkpoint(monkeypatch):
    real = G.save_state

    def save_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise _Interrupt  # as if the process were killed right after the checkpoint landed

    monkeypatch.setattr(G, "save_state", save_then_die)


def _assert_same_model(a, b):
    """Every network (weights, EMA copy, spectral-norm vectors) and every loss history equal
    bit for bit, and so are samples."""
    nets = [k for k, v in vars(a).items() if isinstance(v, torch.nn.Module)]
    assert len(nets) >= 2
    for k in nets:
        sa, sb = getattr(a, k).state_dict(), getattr(b, k).state_dict()
        assert all(torch.equal(sa[n], sb[n]) for n in sa), k
    hists = [k for k in vars(a) if k.endswith("loss_history_")]
    assert hists and all(getattr(a, k) == getattr(b, k) for k in hists)
    c = np.array([0.0, 1.0, 2.0] * 5)
    assert np.array_equal(a.sample(c, random_state=1), b.sample(c, random_state=1))


POG_CFG = PoGDiffConfig(**CFG.to_dict(), k_neighbours=5)
MODELS = {
    "diffusion": (FeatureDiffusion, CFG),
    "gan": (FeatureGAN, GAN_CFG),
    "pogdiff": (FeaturePoGDiff, POG_CFG),  # its neighbour draws come from the checkpointed RNG
}


@pytest.mark.parametrize("every", [1, 7, 29])
@pytest.mark.parametrize("kind", list(MODELS))
def test_interrupted_fit_resumes_bit_identical(tmp_path, monkeypatch, kind, every):
    model, cfg = MODELS[kind]
    Z, c = _data()
    full = model(cfg, random_state=3, progress=False).fit(Z, c)
    path = tmp_path / f"{kind}.safetensors"
    _interrupt_after_first_checkpoint(monkeypatch)
    rng_before = torch.get_rng_state()
    with pytest.raises(_Interrupt):
        model(cfg, random_state=3, progress=False, checkpoint=path, checkpoint_every=every).fit(
            Z, c
        )
    assert torch.equal(torch.get_rng_state(), rng_before)  # the caller's RNG is untouched
    assert load_state(path, None)[1]["step"] == every
    monkeypatch.undo()
    resumed = model(
        cfg, random_state=3, progress=False, checkpoint=path, checkpoint_every=every
    ).fit(Z, c)
    assert resumed.resumed_from_step_ == every
    _assert_same_model(resumed, full)
    assert load_state(path, None)[1]["step"] == cfg.n_steps  # the last checkpoint is the end
    again = model(cfg, random_state=3, progress=False, checkpoint=path).fit(Z, c)
    assert again.resumed_from_step_ == cfg.n_steps  # nothing left to train
    _assert_same_model(again, full)


def test_checkpoint_of_other_inputs_is_refused(tmp_path):
    Z, c = _data()
    path = tmp_path / "diffusion.safetensors"
    FeatureDiffusion(CFG, random_state=3, progress=False, checkpoint=path).fit(Z, c)
    before = path.read_bytes()
    other = [
        ("other data", dict(), _data(seed=1)),
        ("other seed", dict(random_state=4), (Z, c)),
        ("other config", dict(config=DiffusionConfig(**{**CFG.__dict__, "lr": 5e-4})), (Z, c)),
    ]
    for case, kw, (Z2, c2) in other:
        kw = {"config": CFG, "random_state": 3, **kw}
        with pytest.raises(ValueError, match="made from other inputs"):
            FeatureDiffusion(**kw, progress=False, checkpoint=path).fit(Z2, c2)
        assert path.read_bytes() == before, case  # what the user computed is kept


def test_nested_state_round_trip(tmp_path):
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(net.parameters())
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    state = {
        "opt": opt.state_dict(),
        "gen": torch.Generator().manual_seed(5).get_state(),
        "items": [1, 2.5, None, "x", (True, torch.zeros(2))],
    }
    save_state(tmp_path / "s.safetensors", state, "k", {"step": 4})
    got, meta = load_state(tmp_path / "s.safetensors", "k")
    assert meta == {"step": 4}
    assert got["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)  # tuples stay tuples
    assert set(got["opt"]["state"]) == {0, 1}  # integer keys stay integers
    assert torch.equal(got["opt"]["state"][0]["exp_avg"], state["opt"]["state"][0]["exp_avg"])
    assert torch.equal(got["gen"], state["gen"])
    assert got["items"][:4] == [1, 2.5, None, "x"] and got["items"][4][0] is True
    with pytest.raises(ValueError, match="other inputs"):
        load_state(tmp_path / "s.safetensors", "another key")
    with pytest.raises(TypeError, match="cannot store"):
        save_state(tmp_path / "t.safetensors", {"x": object()}, "k")
    assert not (tmp_path / "t.safetensors").exists()


def test_network_checkpoint_is_loaded_for_the_same_inputs_and_refused_for_others(
    tmp_path, tiny_dataset
):
    from latentdiff.encoders import make_encoder
    from latentdiff.methods.reweighting import WeightingHook
    from latentdiff.pipeline import fit_vanilla
    from latentdiff.settings import TrainConfig

    path = tmp_path / "network.safetensors"
    train = TrainConfig(epochs=3)

    def fit(seed=0, train=train, hooks=None, **enc):
        hooks = [WeightingHook("sqinv", lds=True)] if hooks is None else hooks
        encoder = make_encoder("mlp", hidden_dims=(8,), **enc)
        return fit_vanilla(tiny_dataset, encoder, train, seed, False, hooks, checkpoint=path)

    first = fit()
    assert first.loaded_from is None and path.exists()
    again = fit()
    assert again.loaded_from == path
    assert np.array_equal(again.predictions("test"), first.predictions("test"))
    assert again.hook_info == first.hook_info and again.result == first.result
    others = {
        "seed": dict(seed=1),
        "training": dict(train=TrainConfig(epochs=4)),
        "hook option": dict(hooks=[WeightingHook("sqinv", lds=True, kernel="laplace")]),
        "no hooks": dict(hooks=[]),
        "encoder": dict(dropout=0.3),
    }
    for case, kw in others.items():
        with pytest.raises(ValueError, match="made from other inputs"):
            fit(**kw)
            pytest.fail(f"a checkpoint of another {case} was reused")
    changed = tiny_dataset.train.y.copy()
    tiny_dataset.train.y[0] += 1e-9  # the data changed, however little
    with pytest.raises(ValueError, match="made from other inputs"):
        fit()
    tiny_dataset.train.y[:] = changed
    path.write_bytes(path.read_bytes()[:100])  # truncated by a crash outside this tool
    with pytest.raises(ValueError, match="not a readable safetensors"):
        fit()


def _hooks(kind):
    from latentdiff.methods.balanced_mse import BalancedMSEHook
    from latentdiff.methods.conr import ConRHook
    from latentdiff.methods.fds import FDSHook
    from latentdiff.methods.input_resampling import ResampleHook
    from latentdiff.methods.reweighting import WeightingHook

    return {
        "vanilla": lambda: [],
        "fds+lds": lambda: [FDSHook(), WeightingHook("sqinv", lds=True)],
        "bmc": lambda: [BalancedMSEHook("bmc")],
        "conr": lambda: [ConRHook()],
        "smogn": lambda: [ResampleHook("smogn", relevance="auto")],
    }[kind]()


@pytest.mark.parametrize("kind", ["vanilla", "fds+lds", "bmc", "conr", "smogn"])
def test_stage1_training_interrupted_between_epochs_resumes_bit_identical(
    tmp_path, tiny_dataset, monkeypatch, kind
):
    """Killed after epoch 2 of 5, stage 1 continues from epoch 3: the same weights, best epoch,
    history and hook state (FDS statistics, Balanced MSE's sigma) as an uninterrupted run."""
    import latentdiff.training as T
    from latentdiff.encoders import make_encoder
    from latentdiff.pipeline import fit_vanilla
    from latentdiff.settings import TrainConfig

    train = TrainConfig(epochs=5, patience=None)

    def fit(path=None):
        encoder = make_encoder("mlp", hidden_dims=(16,), dropout=0.2)  # dropout: RNG matters
        return fit_vanilla(tiny_dataset, encoder, train, 0, False, _hooks(kind), checkpoint=path)

    whole = fit()
    path = tmp_path / "network.safetensors"
    real, saves = T.save_state, []

    def save_then_die(*args, **kwargs):
        real(*args, **kwargs)
        saves.append(1)
        if len(saves) == 2:
            raise _Interrupt

    monkeypatch.setattr(T, "save_state", save_then_die)
    with pytest.raises(_Interrupt):
        fit(path)
    monkeypatch.undo()
    epochs_file = tmp_path / "network.training.safetensors"
    assert load_state(epochs_file, None)[1]["epochs_done"] == 2 and not path.exists()
    resumed = fit(path)
    assert resumed.loaded_from is None  # trained (the rest of it), not loaded
    sa, sb = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert resumed.result == whole.result and resumed.hook_info == whole.hook_info
    assert np.array_equal(resumed.predictions("test"), whole.predictions("test"))
    assert path.exists() and not epochs_file.exists()  # the network supersedes the epochs file


def test_stage1_killed_right_after_early_stopping_resumes_to_the_same_network(
    tmp_path, tiny_dataset, monkeypatch
):
    import latentdiff.training as T
    from latentdiff.encoders import make_encoder
    from latentdiff.pipeline import fit_vanilla
    from latentdiff.settings import TrainConfig

    train = TrainConfig(epochs=200, patience=1, lr=3e-2)  # stops early, well before 200

    def fit(path=None):
        return fit_vanilla(tiny_dataset, make_encoder("mlp", hidden_dims=(16,)), train, 0,
                           False, checkpoint=path)  # fmt: skip

    whole = fit()
    assert len(whole.result.history) < 200
    real = T.save_state

    def die_when_stopped(path, state, key, meta):
        real(path, state, key, meta)
        if meta["stopped"]:
            raise _Interrupt

    monkeypatch.setattr(T, "save_state", die_when_stopped)
    with pytest.raises(_Interrupt):
        fit(tmp_path / "n.safetensors")
    monkeypatch.undo()
    resumed = fit(tmp_path / "n.safetensors")
    assert resumed.result == whole.result  # no further epoch was trained
    assert np.array_equal(resumed.predictions("test"), whole.predictions("test"))
