"""The diffusion model's reverse-process samplers (DDPM, DDIM, DPM-Solver++ through diffusers,
``DiffusionConfig.scheduler`` / ``sampling_steps``): each step against a hand computation of its
update, the timestep grids, sampling a fitted model with each, and the settings' checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from latentdiff.cli import main
from latentdiff.generators.diffusion import (
    SCHEDULERS,
    FeatureDiffusion,
    cosine_betas,
    make_scheduler,
    sampling_timesteps,
)
from latentdiff.params import SettingError
from latentdiff.settings import SAMPLERS, DiffusionConfig

T = 50
TINY = dict(hidden_dim=32, n_blocks=1, embed_dim=16, batch_size=64, dropout=0.0)
DEFAULT = {
    "scheduler": DiffusionConfig().scheduler,
    "sampling_steps": DiffusionConfig().sampling_steps,
}


def _abar() -> np.ndarray:
    """abar_t of paper step t = index + 1 (float64), from the capped cosine betas (eq. 4)."""
    return np.cumprod(1.0 - cosine_betas(T, 0.008))


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _ddim_by_hand(v, z, a_t: float, a_prev: float):
    """Song et al. (2021) eq. 12 with eta = 0, in the v-parametrisation (eq. 6 of seed 000):
    z_prev = sqrt(a_prev) z0_hat + sqrt(1 - a_prev) eps_hat."""
    z0 = math.sqrt(a_t) * z - math.sqrt(1 - a_t) * v  # eq. 6, seed 000
    eps = math.sqrt(a_t) * v + math.sqrt(1 - a_t) * z  # eq. 3 and 5 solved for eps
    return math.sqrt(a_prev) * z0 + math.sqrt(1 - a_prev) * eps, z0


def _walk(name: str, n: int, seed: int = 0):
    """Step scheduler ``name`` over its n trailing timesteps with fixed random model outputs;
    yields (t, next t or -1, z, v, z after the step, the step's output)."""
    scheduler, timesteps = sampling_timesteps(DiffusionConfig(scheduler=name, sampling_steps=n))
    z = _randn(8, 4, seed=seed).double()
    ts = timesteps.tolist()
    for i, t in enumerate(ts):
        v = _randn(8, 4, seed=seed + 100 + i).double()
        res = scheduler.step(v, t, z, generator=torch.Generator().manual_seed(i),
                             **SCHEDULERS[name][2])  # fmt: skip
        nxt = ts[i + 1] if i + 1 < len(ts) else -1
        yield t, nxt, z, v, res.prev_sample, res
        z = res.prev_sample


# --- the schedulers' settings and grids -----------------------------------------------------------
def test_the_scheduler_names_are_the_settings_options_and_share_the_training_schedule():
    assert tuple(SCHEDULERS) == SAMPLERS
    ref = make_scheduler(DiffusionConfig()).alphas_cumprod  # DDPM: the training schedule
    for name in SAMPLERS:
        s = make_scheduler(DiffusionConfig(), name)
        assert s.config.prediction_type == "v_prediction"
        assert s.config.timestep_spacing == "trailing" and s.config.num_train_timesteps == T
        torch.testing.assert_close(s.alphas_cumprod, ref, rtol=0, atol=0)
        np.testing.assert_allclose(s.alphas_cumprod.double(), _abar(), rtol=1e-4)
    dpm = make_scheduler(DiffusionConfig(), "dpm-solver++").config
    assert dpm.algorithm_type == "dpmsolver++" and dpm.solver_order == 2
    assert dpm.final_sigmas_type == "zero"


@pytest.mark.parametrize("name", SAMPLERS)
def test_t_steps_with_trailing_spacing_visit_every_timestep(name):
    _, ts = sampling_timesteps(DiffusionConfig(scheduler=name, sampling_steps=None))  # None: T
    assert ts.tolist() == list(range(T - 1, -1, -1))
    _, ts = sampling_timesteps(DiffusionConfig(scheduler=name, sampling_steps=T))
    assert ts.tolist() == list(range(T - 1, -1, -1))


@pytest.mark.parametrize("name", SAMPLERS)
def test_few_steps_start_at_the_noisiest_step(name):
    _, ts = sampling_timesteps(DiffusionConfig(scheduler=name, sampling_steps=5))
    assert ts.tolist() == [49, 39, 29, 19, 9]  # trailing: from t = T, evenly spaced


# --- one step of each, by hand --------------------------------------------------------------------
@pytest.mark.parametrize("n", [5, 10, T])
def test_ddim_steps_are_eq12_with_eta_0_onto_the_next_grid_step(n):
    abar = _abar()
    for t, nxt, z, v, got, _ in _walk("ddim", n):
        a_prev = abar[nxt] if nxt >= 0 else 1.0  # abar_0 := 1 after the last step
        want, _ = _ddim_by_hand(v, z, abar[t], a_prev)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [5, 20])
def test_respaced_ddpm_step_is_the_posterior_of_the_visited_steps(n):
    # eq. 13 and 22 with beta' = 1 - abar_t / abar_prev between consecutive grid steps
    abar = _abar()
    for i, (t, nxt, z, v, got, res) in enumerate(_walk("ddpm", n)):
        a_t, a_prev = abar[t], (abar[nxt] if nxt >= 0 else 1.0)
        beta = 1 - a_t / a_prev
        z0 = math.sqrt(a_t) * z - math.sqrt(1 - a_t) * v  # eq. 6
        mean = (math.sqrt(a_prev) * beta / (1 - a_t)) * z0 + (
            math.sqrt(1 - beta) * (1 - a_prev) / (1 - a_t)
        ) * z  # eq. 13
        var = (1 - a_prev) / (1 - a_t) * beta  # eq. 22
        noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(i), dtype=z.dtype)
        torch.testing.assert_close(res.pred_original_sample, z0, rtol=1e-5, atol=1e-5)
        want = mean + (math.sqrt(var) * noise if t > 0 else 0)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        if nxt < 0:  # the last step lands on z0_hat itself (abar_prev = 1, no noise)
            torch.testing.assert_close(got, z0, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [5, 10, 20])
def test_dpm_solver_pp_first_step_is_ddim_and_later_steps_are_2m(n):
    # Lu et al. (2022), DPM-Solver++(2M), Alg. 2: lambda = log(alpha / sigma), h_i the lambda
    # increment, r_i = h_{i-1} / h_i, D_i = (1 + 1 / (2 r_i)) x0_i - 1 / (2 r_i) x0_{i-1},
    # z_next = (sigma_next / sigma) z - alpha_next (exp(-h_i) - 1) D_i; the first step (no
    # history) and the last (to sigma = 0) are first order: DDIM's update.
    abar = _abar()
    ddim = list(_walk("ddim", n)) if T % n == 0 else None
    lam = lambda a: 0.5 * math.log(a / (1 - a))  # noqa: E731
    prev = None  # (lambda, x0_hat) of the step before
    for i, (t, nxt, z, v, got, _) in enumerate(_walk("dpm-solver++", n)):
        a_t, a_next = abar[t], (abar[nxt] if nxt >= 0 else 1.0)
        first_order, x0 = _ddim_by_hand(v, z, a_t, a_next)
        if i == 0 or nxt < 0:
            want = first_order
        else:
            h = lam(a_next) - lam(a_t)
            r = (lam(a_t) - prev[0]) / h
            D = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * prev[1]
            want = (
                math.sqrt((1 - a_next) / (1 - a_t)) * z - math.sqrt(a_next) * (math.exp(-h) - 1) * D
            )
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
        if i == 0 and ddim is not None:  # the same update as diffusers' DDIM, same inputs
            torch.testing.assert_close(got, ddim[0][4], rtol=1e-5, atol=1e-6)
        prev = (lam(a_t), x0)


# --- a fitted model -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted() -> FeatureDiffusion:
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, 200).astype(float)
    Z = np.array([[-2.0, 1.0], [2.0, -1.0]])[c.astype(int)] + 0.3 * rng.normal(size=(200, 2))
    cfg = DiffusionConfig(n_steps=200, lr=5e-3, ema_decay=0.9, early_stopping=False, **TINY)
    return FeatureDiffusion(cfg, random_state=0, progress=False).fit(Z.astype(np.float32), c)


@pytest.mark.parametrize(("name", "steps"), [(s, n) for s in SAMPLERS for n in (5, 10, 50)])
def test_each_sampler_is_deterministic_per_seed_finite_and_on_target(fitted, name, steps):
    fitted.set_sampling(scheduler=name, sampling_steps=steps)
    try:
        c = np.repeat([0.0, 1.0], 100)
        a = fitted.sample(c, random_state=3, batch_size=64)
        assert a.shape == (200, 2) and np.all(np.isfinite(a))
        assert np.array_equal(a, fitted.sample(c, random_state=3, batch_size=64))
        assert not np.array_equal(a, fitted.sample(c, random_state=4, batch_size=64))
        # the condition is followed: each half near its cluster mean (data std 0.3)
        np.testing.assert_allclose(a[:100].mean(0), [-2.0, 1.0], atol=0.4)
        np.testing.assert_allclose(a[100:].mean(0), [2.0, -1.0], atol=0.4)
    finally:
        fitted.set_sampling(**DEFAULT)


def test_the_default_is_dpm_solver_pp_in_10_steps_and_ddpm_at_t_is_seed_000s(fitted):
    assert DEFAULT == {"scheduler": "dpm-solver++", "sampling_steps": 10}
    c = np.array([0.0, 1.0, 1.0, 0.0])
    default = fitted.sample(c, random_state=1)
    try:
        fitted.set_sampling(scheduler="dpm-solver++", sampling_steps=10)
        assert np.array_equal(fitted.sample(c, random_state=1), default)
        fitted.set_sampling(scheduler="ddpm", sampling_steps=None)
        ddpm = fitted.sample(c, random_state=1)
        assert not np.array_equal(ddpm, default)
        fitted.set_sampling(sampling_steps=T)  # None means T
        assert np.array_equal(fitted.sample(c, random_state=1), ddpm)
    finally:
        fitted.set_sampling(**DEFAULT)


def test_set_sampling_changes_sampling_settings_only_and_checks_them(fitted):
    with pytest.raises(ValueError, match="hidden_dim: not a sampling setting"):
        fitted.set_sampling(hidden_dim=8)
    with pytest.raises(SettingError, match="sampling_steps = 60 is more than timesteps = 50"):
        fitted.set_sampling(sampling_steps=60)
    assert fitted.config.scheduler == DEFAULT["scheduler"]
    assert fitted.config.sampling_steps == DEFAULT["sampling_steps"]


# --- settings and the command line ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(sampling_steps=51), "sampling_steps = 51 is more than timesteps = 50"),
        (dict(timesteps=8), "sampling_steps = 10 is more than timesteps = 8"),  # the default 10
        (dict(timesteps=8, sampling_steps=10), "sampling_steps = 10 is more than timesteps = 8"),
        (dict(scheduler="ddim", sampling_steps=20), "misses the trailing timestep grid"),
        (dict(sampling_steps=0), "sampling_steps"),
        (dict(scheduler="euler"), "scheduler"),
    ],
)
def test_bad_sampler_settings_are_refused(settings, message):
    with pytest.raises(SettingError, match=message):
        DiffusionConfig(**settings)


def test_good_sampler_settings_are_accepted():
    for name in SAMPLERS:
        for n in (1, 5, 10, 25, 50):
            assert DiffusionConfig(scheduler=name, sampling_steps=n).sampling_steps == n
    assert DiffusionConfig(scheduler="dpm-solver++", sampling_steps=20).sampling_steps == 20
    assert DiffusionConfig(scheduler="ddpm", sampling_steps=7).sampling_steps == 7


def test_the_command_line_sets_the_sampler_and_refuses_a_bad_one(tmp_path, capsys):
    base = ["bench", "--data", str(tmp_path / "missing.csv"), "--dataset", "csv", "--target", "y",
            "--out", str(tmp_path / "o")]  # fmt: skip
    assert main([*base, "--sampler", "ddim", "--sampling-steps", "20"]) == 2
    err = capsys.readouterr().err
    assert "--sampling-steps" in err or "--sampler" in err
    assert "misses the trailing timestep grid" in err and not (tmp_path / "o").exists()
    # a good pair passes the settings and fails only on the missing data file
    assert main([*base, "--sampler", "dpm-solver++", "--sampling-steps", "10"]) == 2
    err = capsys.readouterr().err
    assert "sampler" not in err and "missing.csv" in err
