"""Early stopping of diffusion training on a held-out eq. 7 loss (issue 11): which rows are held
out, when training stops, that evaluating leaves training untouched, and that a stopped fit
resumes from its checkpoint as it ended."""

import numpy as np
import pytest
import torch

from latentdiff.generators import base as G
from latentdiff.generators.diffusion import FeatureDiffusion, denoiser_size
from latentdiff.generators.stopping import MAX_HELDOUT, MIN_HELDOUT, heldout_split, stopped_at
from latentdiff.io import load_state
from latentdiff.settings import DiffusionConfig

TINY = dict(hidden_dim=32, n_blocks=1, embed_dim=8, batch_size=32)


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 3, n).astype(float)
    return (rng.normal(size=(n, 4)) + c[:, None]).astype(np.float32), c


def test_stopped_at_by_hand():
    assert stopped_at([3.0, 2.0, 1.0, 0.5], patience=2) is None  # always improving
    # best at k = 1; evaluations 2 and 3 do not beat it: stop at k = 3
    assert stopped_at([3.0, 2.0, 2.0, 2.5, 1.0], patience=2) == 3
    assert stopped_at([3.0, 2.0, 2.5], patience=2) is None  # one evaluation since the best
    assert stopped_at([np.nan, np.nan], patience=2) == 1  # NaN never improves
    assert stopped_at([], patience=1) is None


def test_heldout_split_keeps_rare_groups_whole():
    c = np.array([0.0] * 100 + [1.0] * 25 + [2.0] * 9)  # 10 %: 10, 2 and 0 rows held out
    train, held = heldout_split(c, 0.1, seed=0)
    assert np.array_equal(np.sort(np.concatenate([train, held])), np.arange(c.size))
    assert np.bincount(c[held].astype(int), minlength=3).tolist() == [10, 2, 0]
    again = heldout_split(c, 0.1, seed=0)
    assert np.array_equal(again[1], held)  # deterministic per seed
    assert not np.array_equal(heldout_split(c, 0.1, seed=1)[1], held)


def test_heldout_split_of_continuous_conditions_and_cap():
    rng = np.random.default_rng(0)
    c = rng.normal(size=30_000)
    train, held = heldout_split(c, 0.2, seed=0)
    assert held.size == MAX_HELDOUT and train.size == c.size - MAX_HELDOUT
    # quantile groups: the held-out rows span the label range
    assert c[held].min() < np.quantile(c, 0.05) and c[held].max() > np.quantile(c, 0.95)


def test_training_stops_early_and_reports_it():
    Z, c = _data()
    cfg = DiffusionConfig(n_steps=2000, eval_every=10, patience=2, min_delta=0.0, lr=3e-3, **TINY)
    g = FeatureDiffusion(cfg, random_state=0, progress=False).fit(Z, c)
    es = g.early_stopping_
    assert es["heldout_rows"] == pytest.approx(0.1 * len(Z), abs=3)
    assert g.n_steps_ < cfg.n_steps and es["stopped_at_step"] == g.n_steps_
    assert len(g.loss_history_) == g.n_steps_
    losses = es["heldout_losses"]
    assert len(losses) == g.n_steps_ // 10
    assert stopped_at(losses, 2) == len(losses) - 1  # it stopped at the first chance
    off = FeatureDiffusion(cfg.replace(early_stopping=False, n_steps=40), random_state=0,
                           progress=False).fit(Z, c)  # fmt: skip
    assert off.n_steps_ == 40 and off.early_stopping_ is None


def test_too_few_rows_to_hold_out_train_to_the_cap():
    Z, c = _data(n=120)  # 12 held-out rows < MIN_HELDOUT
    assert 0.1 * 120 < MIN_HELDOUT
    g = FeatureDiffusion(DiffusionConfig(n_steps=30, **TINY), random_state=0, progress=False)
    g.fit(Z, c)
    assert g.n_steps_ == 30 and g.early_stopping_["heldout_rows"] == 0
    assert "trained to the step cap" in g.early_stopping_["note"]


def test_heldout_evaluation_leaves_the_weights_and_training_stream_alone(monkeypatch):
    """Evaluating (EMA weights swapped in and out, eval mode) changes no weight and draws from
    no training RNG: a fit that evaluates every step trains exactly as one that evaluates
    every 1,000 steps."""
    Z, c = _data()
    cfg = DiffusionConfig(n_steps=25, patience=1000, **TINY)
    a = FeatureDiffusion(cfg.replace(eval_every=1), random_state=0, progress=False).fit(Z, c)
    b = FeatureDiffusion(cfg.replace(eval_every=1000), random_state=0, progress=False).fit(Z, c)
    assert len(a.early_stopping_["heldout_losses"]) == 25
    assert a.loss_history_ == b.loss_history_
    for n, p in a.denoiser_.state_dict().items():
        assert torch.equal(p, b.denoiser_.state_dict()[n]), n
    for n, p in a.ema_denoiser_.state_dict().items():
        assert torch.equal(p, b.ema_denoiser_.state_dict()[n]), n


def test_a_stopped_fit_resumes_as_it_ended(tmp_path, monkeypatch):
    Z, c = _data()
    cfg = DiffusionConfig(n_steps=2000, eval_every=10, patience=2, min_delta=0.0, lr=3e-3, **TINY)
    full = FeatureDiffusion(cfg, random_state=0, progress=False).fit(Z, c)
    path = tmp_path / "diffusion.safetensors"
    # interrupted after its first checkpoint (every 25 steps), then fitted again
    real = G.save_state
    calls = []

    def save_then_die(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(G, "save_state", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        FeatureDiffusion(cfg, random_state=0, progress=False, checkpoint=path,
                         checkpoint_every=25).fit(Z, c)  # fmt: skip
    monkeypatch.undo()
    resumed = FeatureDiffusion(cfg, random_state=0, progress=False, checkpoint=path,
                               checkpoint_every=25).fit(Z, c)  # fmt: skip
    assert resumed.resumed_from_step_ == 25
    assert resumed.n_steps_ == full.n_steps_ and resumed.loss_history_ == full.loss_history_
    assert resumed.early_stopping_ == full.early_stopping_
    assert load_state(path, None)[1]["step"] == full.n_steps_  # the stop was checkpointed
    again = FeatureDiffusion(cfg, random_state=0, progress=False, checkpoint=path).fit(Z, c)
    assert again.resumed_from_step_ == again.n_steps_ == full.n_steps_  # nothing trained
    probe = np.array([0.0, 1.0, 2.0] * 4)
    assert np.array_equal(again.sample(probe, random_state=1), full.sample(probe, random_state=1))


@pytest.mark.parametrize("m, width", [(4, 128), (64, 128), (200, 200), (1024, 256)])
def test_automatic_denoiser_size(m, width):
    assert denoiser_size(m, DiffusionConfig()) == (width, 2)
    assert denoiser_size(m, DiffusionConfig(hidden_dim=512, n_blocks=3)) == (512, 3)


def test_min_delta_counts_small_decreases_as_none():
    losses = [1.0, 0.995, 0.99, 0.985]  # 0.5 % steps
    assert stopped_at(losses, patience=2) is None
    assert stopped_at(losses, patience=2, min_delta=0.01) == 2  # none beat 0.99 x 1.0
    assert stopped_at([1.0, 0.98, 0.97, 0.96], patience=2, min_delta=0.01) is None


def test_max_epochs_bounds_the_steps_by_passes_over_the_rows(tmp_path):
    Z, c = _data(n=200)  # too few to hold out: only the caps apply
    cfg = DiffusionConfig(n_steps=500, max_epochs=3, **TINY)  # 3 x 200 / 32 -> 19 steps
    path = tmp_path / "diffusion.safetensors"
    g = FeatureDiffusion(cfg, random_state=0, progress=False, checkpoint=path).fit(Z, c)
    assert g.step_cap_ == g.n_steps_ == 19 and len(g.loss_history_) == 19
    assert g.early_stopping_["stopped_at_step"] is None  # capped, not stopped
    assert load_state(path, None)[1]["step"] == 19  # the capped end is checkpointed
    again = FeatureDiffusion(cfg, random_state=0, progress=False, checkpoint=path).fit(Z, c)
    assert again.resumed_from_step_ == again.n_steps_ == 19
    free = FeatureDiffusion(cfg.replace(max_epochs=None, n_steps=25), random_state=0,
                            progress=False).fit(Z, c)  # fmt: skip
    assert free.n_steps_ == 25


def test_an_early_stop_closes_the_line_progress_display(capsys):
    """Off a terminal, progress is printed as lines (LineProgress): a fit that stops early ends
    its display with a last line at the step it stopped (a missing close() broke the demo)."""
    Z, c = _data()
    cfg = DiffusionConfig(n_steps=2000, eval_every=10, patience=2, min_delta=0.0, lr=3e-3, **TINY)
    g = FeatureDiffusion(cfg, random_state=0, progress=True).fit(Z, c)
    assert g.n_steps_ < cfg.n_steps
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"feature-diffusion fit: {g.n_steps_}/{g.step_cap_} ")
