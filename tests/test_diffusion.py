"""Tests of latentdiff.diffusion against seed 000, eq. 3-7, 12-13, 22 and diffusers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from latentdiff.generators.base import make_ema
from latentdiff.generators.diffusion import (
    MAX_BETA,
    Denoiser,
    FeatureDiffusion,
    cosine_alpha_bar,
    cosine_betas,
    diffuse,
    make_scheduler,
    posterior_mean,
    posterior_variance,
    predict_z0,
    reverse_process,
    sinusoidal_embedding,
    velocity,
)
from latentdiff.settings import DiffusionConfig

T = 50
TINY = dict(hidden_dim=64, n_blocks=2, embed_dim=32, batch_size=128, lr=2e-3, ema_decay=0.99)
MEANS = np.array([[-2.0, 1.0], [2.0, -1.0]])  # cluster mean for c = 0 and c = 1


def _randn(*shape: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _two_clusters(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 2, n).astype(float)
    Z = MEANS[c.astype(int)] + 0.3 * rng.normal(size=(n, 2))
    return Z.astype(np.float32), c


@pytest.fixture(scope="module")
def sched():
    return make_scheduler(DiffusionConfig())


@pytest.fixture(scope="module")
def clusters_model() -> FeatureDiffusion:
    Z, c = _two_clusters()
    cfg = DiffusionConfig(n_steps=500, dropout=0.0, **TINY)
    return FeatureDiffusion(cfg, random_state=0, progress=False).fit(Z, c)


# --- eq. 4: schedule ------------------------------------------------------------------------------
def test_cosine_alpha_bar_eq4_by_hand():
    abar = cosine_alpha_bar(T, 0.008)
    f = lambda t: math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    for t in (0, 1, 10, 25, 49, 50):
        assert abar[t] == pytest.approx(f(t) / f(0), rel=1e-12)
    assert abar.shape == (T + 1,) and abar[0] == 1.0
    assert np.all(np.diff(abar) < 0) and abar[T] < 1e-30


def test_cosine_alpha_bar_matches_diffusers_except_capped_last_step(sched):
    abar = cosine_alpha_bar(T, 0.008)
    uncapped = 1 - abar[1:] / abar[:-1]
    # f(T) = cos^2(pi/2) ~ 0 so beta_T ~ 1: the 0.999 cap binds at the last step only.
    assert np.flatnonzero(uncapped > MAX_BETA).tolist() == [T - 1]
    ac = sched.alphas_cumprod.double().numpy()  # index t - 1 holds abar_t
    np.testing.assert_allclose(ac[: T - 1], abar[1:T], rtol=1e-5)
    assert ac[T - 1] == pytest.approx(abar[T - 1] * (1 - MAX_BETA), rel=1e-4)
    assert abar[T] < 1e-30 < ac[T - 1] < 1e-5  # capped abar_T is still ~ pure noise
    np.testing.assert_allclose(sched.betas.numpy(), cosine_betas(T), rtol=1e-5)


def test_other_cosine_offset_and_linear_schedule():
    s = make_scheduler(DiffusionConfig(cosine_s=0.02))
    np.testing.assert_allclose(s.alphas_cumprod[:-1].double(), cosine_alpha_bar(T, 0.02)[1:T], 1e-5)
    lin = make_scheduler(DiffusionConfig(schedule="linear"))
    assert torch.all(torch.diff(lin.betas) > 0) and lin.alphas_cumprod[-1] < 1e-3


@pytest.mark.parametrize(("prediction", "name"), [("v", "v_prediction"), ("epsilon", "epsilon")])
def test_scheduler_settings(prediction, name):
    s = make_scheduler(DiffusionConfig(prediction=prediction))
    assert s.config.clip_sample is False and s.config.prediction_type == name
    assert s.config.num_train_timesteps == T and len(s.alphas_cumprod) == T


# --- eq. 3, 5, 6 ----------------------------------------------------------------------------------
def test_eq3_eq5_match_hand_formulas_and_diffusers(sched):
    z0, eps = _randn(64, 8, seed=1), _randn(64, 8, seed=2)
    t = torch.randint(0, T, (64,), generator=torch.Generator().manual_seed(3))
    a = sched.alphas_cumprod[t][:, None]  # (B, 1)
    z_t_hand = torch.sqrt(a) * z0 + torch.sqrt(1 - a) * eps  # eq. 3
    v_hand = torch.sqrt(a) * eps - torch.sqrt(1 - a) * z0  # eq. 5
    torch.testing.assert_close(diffuse(z0, eps, a), z_t_hand)
    torch.testing.assert_close(sched.add_noise(z0, eps, t), z_t_hand)
    torch.testing.assert_close(velocity(z0, eps, a), v_hand)
    torch.testing.assert_close(sched.get_velocity(z0, eps, t), v_hand)


@pytest.mark.parametrize("prediction", ["v", "epsilon"])
def test_eq6_oracle_output_recovers_z0_at_every_step(sched, prediction):
    ac = sched.alphas_cumprod.double()
    z0, eps = _randn(32, 6, seed=4, dtype=torch.float64), _randn(32, 6, seed=5, dtype=torch.float64)
    for t_index in range(T):
        a = ac[t_index]
        z_t = diffuse(z0, eps, a)
        out = velocity(z0, eps, a) if prediction == "v" else eps
        torch.testing.assert_close(predict_z0(out, z_t, a, prediction), z0, rtol=0, atol=1e-9)


# --- eq. 13 and eq. 22 ----------------------------------------------------------------------------
def test_eq13_posterior_mean_by_hand_on_scalars():
    ac = torch.tensor([0.9, 0.6, 0.2], dtype=torch.float64)
    z0_hat, z_t = torch.tensor(1.5, dtype=torch.float64), torch.tensor(-0.7, dtype=torch.float64)
    beta = 1 - 0.2 / 0.6  # paper t = 3
    mu = math.sqrt(0.6) * beta / 0.8 * 1.5 + math.sqrt(1 - beta) * 0.4 / 0.8 * -0.7
    assert posterior_mean(z0_hat, z_t, 2, ac).item() == pytest.approx(mu, rel=1e-12)
    assert posterior_variance(2, ac).item() == pytest.approx(0.4 / 0.8 * beta, rel=1e-12)
    # t = 1: abar_0 := 1, so mu = z0_hat and sigma_1 = 0
    assert posterior_mean(z0_hat, z_t, 0, ac).item() == pytest.approx(1.5, rel=1e-12)
    assert posterior_variance(0, ac).item() == 0.0


@pytest.mark.parametrize("prediction", ["v", "epsilon"])
def test_eq13_and_eq22_sigma_match_diffusers_step(prediction):
    s = make_scheduler(DiffusionConfig(prediction=prediction))
    ac = s.alphas_cumprod
    for t_index in (0, 1, 17, 48, 49):
        z_t, out = _randn(16, 8, seed=t_index), _randn(16, 8, seed=100 + t_index)
        res = s.step(out, t_index, z_t, generator=torch.Generator().manual_seed(7))
        noise = torch.randn(z_t.shape, generator=torch.Generator().manual_seed(7))
        z0_hat = predict_z0(out, z_t, ac[t_index], prediction)
        torch.testing.assert_close(z0_hat, res.pred_original_sample, rtol=1e-5, atol=1e-5)
        mu = posterior_mean(z0_hat, z_t, t_index, ac)
        if t_index > 0:
            mu = mu + posterior_variance(t_index, ac).sqrt() * noise
        torch.testing.assert_close(mu, res.prev_sample, rtol=1e-5, atol=1e-5)


def test_eq13_equals_mean_form_of_eq22_with_epsilon_z0(sched):
    ac = sched.alphas_cumprod.double()
    for t_index in range(T):
        z_t, eps_hat = _randn(8, 5, seed=t_index, dtype=torch.float64), _randn(8, 5, seed=99)
        eps_hat = eps_hat.double()
        a = ac[t_index]
        alpha = a / ac[t_index - 1] if t_index > 0 else a
        mu22 = (z_t - (1 - alpha) / torch.sqrt(1 - a) * eps_hat) / torch.sqrt(alpha)  # eq. 22
        mu13 = posterior_mean(predict_z0(eps_hat, z_t, a, "epsilon"), z_t, t_index, ac)
        torch.testing.assert_close(mu13, mu22, rtol=1e-9, atol=1e-9)


# --- reverse process with oracle denoisers --------------------------------------------------------
def _gaussian_oracle(mu0: torch.Tensor, s0: float, ac: torch.Tensor, prediction: str):
    """Exact E[v | z_t] (or E[eps | z_t]) for data z_0 ~ N(mu0, s0^2 I)."""

    def predict(z_t: torch.Tensor, t_index: int) -> torch.Tensor:
        a = ac[t_index]
        gain = s0**2 * torch.sqrt(a) / (a * s0**2 + 1 - a)
        z0 = mu0 + gain * (z_t - torch.sqrt(a) * mu0)  # E[z_0 | z_t]
        eps = (z_t - torch.sqrt(a) * z0) / torch.sqrt(1 - a)  # E[eps | z_t]
        return velocity(z0, eps, a) if prediction == "v" else eps

    return predict


@pytest.mark.parametrize("prediction", ["v", "epsilon"])
def test_reverse_process_with_point_mass_oracle_returns_the_point(sched, prediction):
    ac = sched.alphas_cumprod.double()
    mu0 = torch.tensor([3.0, -1.0, 0.5], dtype=torch.float64)
    z_T = _randn(50, 3, seed=1, dtype=torch.float64)
    predict = _gaussian_oracle(mu0, 0.0, ac, prediction)
    z0 = reverse_process(predict, z_T, ac, prediction, torch.Generator().manual_seed(0))
    torch.testing.assert_close(z0, mu0.expand(50, 3), rtol=0, atol=1e-8)


@pytest.mark.parametrize("prediction", ["v", "epsilon"])
def test_reverse_process_with_gaussian_oracle_matches_data_moments(sched, prediction):
    ac = sched.alphas_cumprod.double()
    mu0, s0 = torch.tensor([3.0, -1.0, 0.5, 0.0], dtype=torch.float64), 0.5
    z_T = _randn(8000, 4, seed=2, dtype=torch.float64)
    predict = _gaussian_oracle(mu0, s0, ac, prediction)
    z0 = reverse_process(predict, z_T, ac, prediction, torch.Generator().manual_seed(3))
    torch.testing.assert_close(z0.mean(0), mu0, rtol=0, atol=0.03)
    # The chain is linear-Gaussian: Var_{t-1} = A_t^2 Var_t + sigma_t^2, A_t from eq. 13 by hand.
    var = 1.0  # z_T ~ N(0, I)
    for i in reversed(range(T)):
        a, a_prev = ac[i].item(), ac[i - 1].item() if i > 0 else 1.0
        beta, gain = 1 - a / a_prev, s0**2 * math.sqrt(a) / (a * s0**2 + 1 - a)
        A = math.sqrt(a_prev) * beta / (1 - a) * gain + math.sqrt(1 - beta) * (1 - a_prev) / (1 - a)
        var = A**2 * var + (1 - a_prev) / (1 - a) * beta
    # sigma_t^2 of eq. 22 is the lower bound of the reverse variance: a few % shrinkage at T = 50
    assert 0.9 * s0 < math.sqrt(var) < s0
    np.testing.assert_allclose(z0.std(0).numpy(), math.sqrt(var), rtol=0.03)


# --- denoiser and EMA -----------------------------------------------------------------------------
def test_denoiser_shapes_zero_output_and_parameter_count():
    m, H, E, n = 10, 16, 8, 2
    net = Denoiser(m, DiffusionConfig(hidden_dim=H, n_blocks=n, embed_dim=E, dropout=0.1))
    out = net(_randn(5, m), torch.linspace(-1, 1, 5), torch.arange(1, 6))
    assert out.shape == (5, m) and torch.all(out == 0)  # zero-initialised output layer
    n_label = (E + E) + (E * E + E) + 2 * E
    n_block = 2 * H + (E * H + H) + 2 * (H * H + H)
    expected = n_label + (E * E + E) + (m * H + H) + n * n_block + 2 * H + (H * m + m)
    assert sum(p.numel() for p in net.parameters()) == expected
    pe = sinusoidal_embedding(torch.tensor([0, 3]), 6)
    assert pe.shape == (2, 6) and torch.equal(pe[0], torch.tensor([0.0, 0, 0, 1, 1, 1]))


def test_ema_is_diffusers_ema_with_its_warmup_rule():
    lin = nn.Linear(3, 2)
    params = list(lin.parameters())
    ema = make_ema(params, decay=0.5)
    for k in range(1, 6):
        before = [s.clone() for s in ema.shadow_params]
        with torch.no_grad():
            for p in params:
                p.add_(0.1 * k)
        ema.step(params)
        # diffusers: decay_k = 0 at the first step, then min(decay, (1 + k') / (10 + k'))
        decay = 0.0 if k == 1 else min(0.5, k / (9 + k))
        for s0, s, p in zip(before, ema.shadow_params, params, strict=True):
            torch.testing.assert_close(s, decay * s0 + (1 - decay) * p)


def test_trained_model_samples_land_on_the_conditioned_cluster(clusters_model):
    fd = clusters_model
    assert np.mean(fd.loss_history_[-50:]) < 0.75 * np.mean(fd.loss_history_[:50])
    for k in (0, 1):
        S = fd.sample(np.full(300, float(k)), random_state=1)
        assert S.shape == (300, 2) and S.dtype == np.float32
        np.testing.assert_allclose(S.mean(0), MEANS[k], atol=0.2)
        assert np.all((S.std(0) > 0.15) & (S.std(0) < 0.45))  # data std 0.3
        d = np.linalg.norm(S[:, None, :] - MEANS[None], axis=-1)  # (n, 2)
        assert np.mean(d.argmin(1) == k) > 0.95


@pytest.mark.parametrize("prediction", ["v", "epsilon"])
def test_sampling_through_the_diffusers_scheduler_equals_the_hand_written_step(prediction):
    # sample() with the ddpm sampler at T steps (seed 000's) steps DDPMScheduler (v- or
    # epsilon-prediction, clip_sample off); reverse_process is eq. 13 and eq. 22 written out.
    # Same network, same noise draws: the same samples, bit for bit (CPU, float32), for every
    # batch of a multi-batch call.
    Z, c = _two_clusters(120)
    cfg = DiffusionConfig(n_steps=20, prediction=prediction, scheduler="ddpm",
                          sampling_steps=None, **TINY)  # fmt: skip
    model = FeatureDiffusion(cfg, random_state=0, progress=False).fit(Z, c)
    conds = np.array([0.0, 1.0, 1.0, 0.0, 1.0] * 3)
    got = model.sample(conds, batch_size=4, random_state=5)
    gen = torch.Generator().manual_seed(5)
    y = torch.as_tensor((conds - model.c_mean_) / model.c_std_, dtype=torch.float32)
    parts = []
    with torch.no_grad():
        for start in range(0, len(conds), 4):
            y_b = y[start : start + 4]
            z_T = torch.randn((len(y_b), 2), generator=gen)

            def predict(z_t, t_index, y_b=y_b):
                return model.ema_denoiser_(z_t, y_b, torch.full((len(y_b),), t_index + 1))

            parts.append(reverse_process(predict, z_T, model.alphas_cumprod_, prediction, gen))
    expected = torch.cat(parts).numpy() * model.z_std_ + model.z_mean_
    np.testing.assert_array_equal(got, expected.astype(np.float32))


def test_fitted_state_and_ema_copy(clusters_model):
    fd = clusters_model
    assert fd.n_features_in_ == 2 and fd.z_mean_.shape == (2,) and fd.z_std_.shape == (2,)
    Z, c = _two_clusters()
    assert fd.c_mean_ == pytest.approx(c.mean()) and fd.c_std_ == pytest.approx(c.std())
    np.testing.assert_allclose(fd.z_mean_, Z.mean(0), rtol=1e-5)
    assert fd.n_parameters_ == sum(p.numel() for p in fd.denoiser_.parameters())
    assert len(fd.loss_history_) == fd.n_steps_ <= fd.step_cap_ <= 500  # max_epochs may cap it
    assert np.all(np.isfinite(fd.loss_history_))
    ema_params = list(fd.ema_denoiser_.parameters())
    for e, s in zip(ema_params, fd.ema_.shadow_params, strict=True):
        assert torch.equal(e, s)
    assert not all(
        torch.equal(e, p) for e, p in zip(ema_params, fd.denoiser_.parameters(), strict=True)
    )


def test_sampling_is_deterministic_given_random_state(clusters_model):
    c = np.array([0.0, 1.0, 0.5, 1.0, 0.0])
    a = clusters_model.sample(c, random_state=5)
    assert np.array_equal(a, clusters_model.sample(c, random_state=5))
    assert not np.array_equal(a, clusters_model.sample(c, random_state=6))
    assert clusters_model.sample(c, batch_size=2).shape == (5, 2)
    assert clusters_model.sample([]).shape == (0, 2)


def test_fit_is_deterministic_and_leaves_global_rng_alone():
    Z, c = _two_clusters(60, seed=1)
    cfg = DiffusionConfig(n_steps=20, dropout=0.1, **TINY)
    state = torch.get_rng_state()
    a = FeatureDiffusion(cfg, random_state=3, progress=False).fit(Z, c)
    b = FeatureDiffusion(cfg, random_state=3, progress=False).fit(Z, c)
    d = FeatureDiffusion(cfg, random_state=4, progress=False).fit(Z, c)
    assert torch.equal(torch.get_rng_state(), state)
    assert a.loss_history_ == b.loss_history_ != d.loss_history_
    assert np.array_equal(a.sample(c[:10], random_state=0), b.sample(c[:10], random_state=0))


@pytest.mark.parametrize("prediction", ["v", "epsilon"])
def test_constant_inputs_and_no_ema(prediction):
    Z, _ = _two_clusters(40)
    Z[:, 1] = 7.0  # constant dimension: std floored, sample returns the constant
    cfg = DiffusionConfig(n_steps=20, prediction=prediction, use_ema=False, **TINY)
    fd = FeatureDiffusion(cfg, progress=False).fit(Z, np.full(40, 3.0))
    assert fd.c_std_ == 1.0 and fd.z_std_[1] == 1e-6 and fd.ema_denoiser_ is None
    S = fd.sample(np.full(8, 3.0), random_state=0)
    # an untrained epsilon net is amplified by 1 / sqrt(abar_T) ~ 1e3 at t = T: only finiteness
    assert np.all(np.isfinite(S)) and np.allclose(S[:, 1], 7.0, atol=1e-2)


# --- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("Z", "c", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), [0.0, 1.0], "Z has 1 non-finite"),
        (np.zeros((3, 2)), [0.0, np.inf, 1.0], "c has 1 non-finite"),
        (np.zeros((3, 2)), [0.0, 1.0], "different lengths: 3 vs 2"),
        (np.zeros(3), [0.0, 1.0, 2.0], "2-D array"),
        (np.zeros((1, 2)), [0.0], "at least 2 samples"),
    ],
)
def test_fit_rejects_bad_inputs(Z, c, match):
    with pytest.raises(ValueError, match=match):
        FeatureDiffusion(progress=False).fit(Z, c)


def test_use_before_fit_and_bad_sample_inputs(clusters_model):
    fd = FeatureDiffusion(progress=False)
    with pytest.raises(RuntimeError, match="not fitted"):
        fd.sample([0.0])
    with pytest.raises(RuntimeError, match="not fitted"):
        _ = fd.n_parameters_
    with pytest.raises(ValueError, match="c has 1 non-finite"):
        clusters_model.sample([0.0, np.nan])
    with pytest.raises(ValueError, match="batch_size"):
        clusters_model.sample([0.0], batch_size=0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timesteps": 0}, "timesteps"),
        ({"timesteps": 2.5}, "timesteps"),
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"n_blocks": -1}, "n_blocks"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_steps": 0}, "n_steps"),
        ({"embed_dim": 7}, "embed_dim"),
        ({"schedule": "quadratic"}, "schedule"),
        ({"prediction": "x0"}, "prediction"),
        ({"cosine_s": -0.1}, "cosine_s"),
        ({"dropout": 1.0}, "dropout"),
        ({"lr": 0.0}, "lr"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"ema_decay": -0.1}, "ema_decay"),
        ({"grad_clip": float("nan")}, "grad_clip"),
        ({"use_ema": 1}, "use_ema"),
    ],
)
def test_config_validation(kwargs, field):
    with pytest.raises(ValueError, match=field):
        DiffusionConfig(**kwargs)


def test_config_defaults_follow_table_6():
    cfg = DiffusionConfig()
    assert (cfg.timesteps, cfg.schedule, cfg.cosine_s, cfg.prediction) == (50, "cosine", 0.008, "v")
    assert cfg.ema_decay == 0.999 and cfg.use_ema
