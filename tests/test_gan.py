import numpy as np
import pytest
import torch

from latentdiff.generators.gan import FeatureGAN
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import GANConfig

#: Small and fast GAN settings for tests.
FAST_GAN = dict(
    noise_dim=8,
    hidden_dim=64,
    n_blocks=1,
    embed_dim=16,
    d_hidden_dim=64,
    batch_size=64,
    n_steps=40,
)


def _toy(n=900, seed=0):
    """z = [y, y^2] + N(0, 0.05^2) with y ~ U(0, 3); conditions c = centres of 3 bins."""
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 3, n)
    c = np.floor(y).clip(0, 2) + 0.5
    Z = np.c_[y, y**2] + rng.normal(0, 0.05, (n, 2))
    return Z.astype(np.float32), c


def test_shapes_dtypes_and_standardisation():
    Z, c = _toy(200)
    gan = FeatureGAN(GANConfig(**FAST_GAN), random_state=0, progress=False).fit(Z, c)
    np.testing.assert_allclose(gan.z_mean_, Z.astype(np.float64).mean(0))
    np.testing.assert_allclose(gan.z_std_, Z.astype(np.float64).std(0))
    assert gan.c_mean_ == pytest.approx(c.mean()) and gan.c_std_ == pytest.approx(c.std())
    out = gan.sample(c[:37], batch_size=10, random_state=1)
    assert out.shape == (37, 2) and out.dtype == np.float32 and np.all(np.isfinite(out))
    assert gan.sample([], random_state=0).shape == (0, 2)
    assert len(gan.d_loss_history_) == len(gan.g_loss_history_) == FAST_GAN["n_steps"]
    assert gan.n_parameters_ > 0
    with pytest.raises(RuntimeError, match="not fitted"):
        FeatureGAN(progress=False).sample([1.0])
    with pytest.raises(ValueError, match="different lengths"):
        FeatureGAN(progress=False).fit(Z, c[:-1])
    with pytest.raises(ValueError, match="aux_weight"):
        GANConfig(aux_weight=-1.0)
    with pytest.raises(ValueError, match="n_steps"):
        GANConfig(n_steps=0)


def test_deterministic_given_random_state_and_global_rng_untouched():
    Z, c = _toy(200)
    cfg = GANConfig(**FAST_GAN)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = FeatureGAN(cfg, random_state=5, progress=False).fit(Z, c)
    assert torch.equal(before, torch.get_rng_state())  # fork_rng restored the caller's state
    b = FeatureGAN(cfg, random_state=5, progress=False).fit(Z, c)
    assert a.g_loss_history_ == b.g_loss_history_
    np.testing.assert_array_equal(a.sample(c, random_state=2), b.sample(c, random_state=2))
    assert not np.array_equal(a.sample(c, random_state=2), a.sample(c, random_state=3))
    other = FeatureGAN(cfg, random_state=6, progress=False).fit(Z, c)
    assert not np.array_equal(a.sample(c, random_state=2), other.sample(c, random_state=2))


def test_conditional_means_move_to_the_real_ones():
    Z, c = _toy()
    centres = np.unique(c)
    real = np.stack([Z[c == k].mean(0) for k in centres])  # (3, 2)
    cfg = GANConfig(**{**FAST_GAN, "n_steps": 500, "batch_size": 128})
    gan = FeatureGAN(cfg, random_state=0, progress=False).fit(Z, c)
    gen = np.stack([gan.sample(np.full(400, k), random_state=1).mean(0) for k in centres])
    err = np.linalg.norm(gen - real, axis=1)  # (3,)
    # the untrained-in-effect baseline: the pooled mean, which ignores the condition
    pooled = np.linalg.norm(Z.mean(0) - real, axis=1)
    assert np.all(err < 0.5 * pooled), (err, pooled)
    # the conditions are told apart in the right order on both coordinates
    assert np.all(np.diff(gen, axis=0) > 0.5), gen


def test_sampler_with_gan_end_to_end():
    rng = np.random.default_rng(0)
    y = rng.exponential(1.0, 300)
    Z = np.c_[y[:, None] + rng.normal(0, 0.2, (300, 1)), rng.normal(0, 1, (300, 5))]
    Z = Z.astype(np.float32)
    s = LatentDiffSampler(n_bins=6, ratio=0.5, generator="gan", gan=FAST_GAN, random_state=0)
    Z_syn, y_syn = s.fit(Z, y).generate()
    assert isinstance(s.generator_, FeatureGAN) and not hasattr(s, "diffusion_")
    assert Z_syn.dtype == Z.dtype and Z_syn.shape == (len(y_syn), Z.shape[1])
    assert len(s.report_) == 6 and sum(r["requested"] for r in s.report_) == 150
    assert sum(r["accepted"] for r in s.report_) == len(y_syn)
    assert set(np.round(y_syn, 9)) <= set(np.round(s.bins_.centers, 9))
    assert s.get_params()["generator"] == "gan" and s.get_params()["gan"] == FAST_GAN
    # repeatable: the same random_state gives the same synthetic features
    again = LatentDiffSampler(n_bins=6, ratio=0.5, generator="gan", gan=GANConfig(**FAST_GAN))
    Z2, _ = again.set_params(random_state=0).fit(Z, y).generate()
    np.testing.assert_array_equal(Z_syn, Z2)


def test_bad_generator_name_raises_naming_the_choices():
    Z, y = _toy(50)
    with pytest.raises(ValueError, match=r"generator = 'vae'.*'diffusion', 'gan', 'gaussian'"):
        LatentDiffSampler(generator="vae").fit(Z, y)
