"""Issue 13, point 6: Balanced MSE's noise sigma is set in label stds (start and step size), can be
fixed, and BNI's gradient explains its divergence with a sigma far below the bucket spacing;
RankSim's gamma follows the reference code of the data set, and its blackbox gradient saturates
in gamma."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from latentdiff.binning import Bins
from latentdiff.methods import get_method
from latentdiff.methods.balanced_mse import BalancedMSEHook, bni_grid, bni_loss
from latentdiff.methods.ranksim import REFERENCE_GAMMA, default_gamma, ranksim_loss


def _setup(hook, y):
    model = torch.nn.Linear(1, 1)
    model.y_scale, model.y_mean = torch.tensor(float(y.std())), torch.tensor(float(y.mean()))
    hook.setup(model, y, Bins.fit(y, n_bins=10))
    return hook


@pytest.mark.parametrize("mode", ["bmc", "bni", "gai"])
def test_balanced_mse_sigma_start_and_step_are_in_label_stds(mode):
    y = np.random.default_rng(0).gamma(2.0, 1.0, 300)
    small = _setup(BalancedMSEHook(mode, init_sigma_std=0.5, sigma_lr_std=1e-3), y)
    large = _setup(BalancedMSEHook(mode, init_sigma_std=0.5, sigma_lr_std=1e-3), y * 1000.0)
    np.testing.assert_allclose(small.info()["noise_sigma_init"], 0.5 * y.std())
    np.testing.assert_allclose(small.param_groups()[0]["lr"], 1e-3 * y.std())
    # the same data in other units: the same sigma and step in those units
    np.testing.assert_allclose(large.info()["noise_sigma_init"], 1000 * 0.5 * y.std())
    np.testing.assert_allclose(large.param_groups()[0]["lr"], 1000 * 1e-3 * y.std())
    # absolute values, in label units, win over the fractions
    fixed = _setup(BalancedMSEHook(mode, init_noise_sigma=2.0, sigma_lr=0.01), y * 1000.0)
    assert fixed.info()["noise_sigma_init"] == 2.0 and fixed.param_groups()[0]["lr"] == 0.01


def test_balanced_mse_default_sigma_starts_at_a_tenth_learnt_at_a_thousandth_label_std():
    y = np.random.default_rng(1).normal(5.0, 3.0, 200)
    hook = _setup(BalancedMSEHook("bmc"), y)
    np.testing.assert_allclose(hook.info()["noise_sigma_init"], 0.1 * y.std())
    np.testing.assert_allclose(hook.param_groups()[0]["lr"], 1e-3 * y.std())


def test_balanced_mse_fixed_sigma_has_no_parameter_group_and_does_not_move():
    y = np.random.default_rng(2).normal(size=100)
    hook = _setup(BalancedMSEHook("bmc", learn_sigma=False), y)
    assert hook.param_groups() == []
    assert not hook.criterion.noise_sigma.requires_grad
    pred = torch.zeros(100, requires_grad=True)
    hook.loss(pred, torch.as_tensor(y, dtype=torch.float32), None).backward()
    assert hook.criterion.noise_sigma.grad is None and pred.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "option, value",
    [("init_sigma_std", -1.0), ("sigma_lr_std", 0), ("sigma_lr", -0.1), ("learn_sigma", "yes")],
)
def test_balanced_mse_bad_sigma_options_are_refused_by_name(option, value):
    with pytest.raises(ValueError, match=option):
        get_method("bni", {"bni": {option: value}})


def test_bni_gradient_is_twice_the_bucket_posterior_mean_minus_the_target():
    # d/dpred of (2 sigma^2)_detached [(p - y)^2 / 2 sigma^2 + log sum_b p_b N(p; c_b, sigma^2)]
    # = 2 (E_w[c] - y), w_b ~ p_b exp(-(p - c_b)^2 / 2 sigma^2): computed by hand in numpy
    c, p_b, y, var = np.array([0.0, 1.0, 2.5]), np.array([0.6, 0.3, 0.1]), 1.7, 0.4
    for pred in (-1.0, 0.4, 3.0):
        x = torch.tensor([pred], dtype=torch.float64, requires_grad=True)
        bni_loss(x, torch.tensor([y], dtype=torch.float64), var, torch.tensor(c),
                 torch.tensor(p_b)).backward()  # fmt: skip
        w = p_b * np.exp(-((pred - c) ** 2) / (2 * var))
        np.testing.assert_allclose(x.grad.item(), 2 * ((w / w.sum()) @ c - y), rtol=1e-8)


def test_bni_pushes_a_target_beyond_the_outermost_centre_without_end():
    # the gradient 2 (E_w[c] - y) is negative wherever the prediction is when y > max(c), for any
    # sigma: gradient descent raises the prediction forever (the divergence on medexp, whose
    # labels lie mostly below the first evaluation-bin midpoint)
    c, p_b, y = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0.7, 0.2, 0.1]), 2.4

    def grad(pred, var):
        x = torch.tensor([pred], requires_grad=True)
        bni_loss(x, torch.tensor([y]), var, c, p_b).backward()
        return x.grad.item()

    for var in (1e-3, 1.0, 100.0):
        assert all(grad(pred, var) < 0 for pred in (-5.0, 2.4, 50.0, 1e4))
    # with the target inside the centres there is a stationary point
    inside = torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.tensor([0.6, 0.2, 0.1, 0.1])

    def grad_in(pred):
        x = torch.tensor([pred], requires_grad=True)
        bni_loss(x, torch.tensor([y]), 1.0, *inside).backward()
        return x.grad.item()

    assert grad_in(2.4) < 0 < grad_in(50.0)


def test_bni_grid_spans_the_labels_and_keeps_their_mass_and_mean():
    y = np.random.default_rng(3).lognormal(0.0, 1.5, 2000)
    c, w = bni_grid(y, spacing=0.05 * y.std())
    assert c[0] == y.min() and c[-1] == y.max()  # every label between the outermost centres
    np.testing.assert_allclose(w.sum(), 1.0)
    np.testing.assert_allclose(w @ c, y.mean(), rtol=1e-10)  # linear binning keeps the mean
    assert 0 < np.diff(c).min() <= 0.05 * y.std()  # empty grid points dropped, gaps remain
    # the evaluation bins' midpoints leave most of these labels below the first centre
    bins = Bins.fit(y, n_bins=20)
    assert np.mean(y < bins.centers[0]) > 0.5
    hook = _setup(BalancedMSEHook("bni"), y)
    assert hook.criterion.bucket_centers.min().item() == pytest.approx(y.min())
    assert hook.criterion.bucket_centers.max().item() == pytest.approx(y.max())


def _ctx(name):
    return SimpleNamespace(dataset=SimpleNamespace(name=name))


def test_ranksim_gamma_follows_the_reference_of_the_data_set():
    assert REFERENCE_GAMMA == {"agedb-dir": 100.0, "imdb-wiki-dir": 100.0, "stsb-dir": 3e-4}
    method = get_method("ranksim")
    assert method.make_hooks(_ctx("stsb-dir"))[0].gamma == 3e-4
    assert method.make_hooks(_ctx("agedb-dir"))[0].gamma == 100.0
    assert method.make_hooks(_ctx("california-housing"))[0].gamma == default_gamma("csv")
    chosen = get_method("ranksim", {"ranksim": {"gamma": 0.5}})
    assert chosen.make_hooks(_ctx("stsb-dir"))[0].gamma == 0.5


def test_ranksim_blackbox_gradient_saturates_in_gamma():
    # beyond some gamma the perturbed ranking is the ranking of the incoming gradient alone: the
    # feature gradient stops growing with gamma (why gamma 0.1 to 100 collapse alike on STS-B)
    g = torch.Generator().manual_seed(0)
    z0, y = torch.randn(24, 8, generator=g), torch.arange(24.0)

    def grad(gamma):
        z = z0.clone().requires_grad_(True)
        (gamma * ranksim_loss(z, y)).backward()
        return z.grad

    norm = {gamma: grad(gamma).abs().sum().item() for gamma in (1e-6, 1e-2, 1e2, 1e6)}
    assert norm[1e-6] == 0  # too small to swap a rank: no gradient at all
    assert 0 < norm[1e-2] < norm[1e2] / 10
    assert norm[1e6] < 1.01 * norm[1e2]  # 10,000 times the weight, under 1 % more gradient
    torch.testing.assert_close(grad(1e6), grad(1e2), atol=0.05, rtol=0)
