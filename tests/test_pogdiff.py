"""PoGDiff in feature space (seed 003, eq. 8-13; issue 12): the loss, psi, the neighbours and
their draw against hand computations and scikit-learn, determinism, bad input, and the
generator / method / settings surfaces."""

import json

import numpy as np
import pytest
import torch
from conftest import FAST_DIFFUSION, long_tailed_frame
from scipy.ndimage import convolve1d
from sklearn.metrics.pairwise import cosine_similarity

import latentdiff.bench
from latentdiff.cli import main
from latentdiff.generators import GENERATORS
from latentdiff.generators.base import TrainingParts
from latentdiff.generators.pogdiff import (
    FeaturePoGDiff,
    Neighbours,
    bin_density,
    check_neighbours_before_training,
    cosine_neighbours,
    generator_rows,
    neighbour_probabilities,
    pogdiff_loss,
    psi,
)
from latentdiff.methods import RunContext, get_method
from latentdiff.methods.reweighting import lds_kernel
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import (
    BenchConfig,
    HeadConfig,
    PoGDiffConfig,
    SamplerConfig,
    TrainConfig,
    TuneConfig,
)

SMALL = dict(hidden_dim=32, n_blocks=1, embed_dim=8, batch_size=16)


def _data(n=120, m=4, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.choice([0.0, 1.0, 2.0, 3.0], size=n, p=[0.5, 0.3, 0.15, 0.05])
    return (rng.normal(size=(n, m)) + c[:, None]).astype(np.float32), c


def test_psi_by_hand_with_the_bin_indicator_and_density():
    cfg = PoGDiffConfig(a1=1.0, a2=1.0, a3=2.0)
    s = torch.tensor([0.4, 0.4, -0.3, 0.0, 0.9])
    different = torch.tensor([False, True, False, True, True])
    density = torch.tensor([0.5, 0.5, 0.5, 1.0, 4.0])
    got = psi(s, different, density, cfg)
    # seed 003's footnote 3: 0.4^1 for the same identity, 0.4^2 for another; / (a3 density)
    want = torch.tensor([0.4 / 1.0, 0.16 / 1.0, 0.0, 0.0, 0.81 / 8.0])
    assert torch.allclose(got, want)
    cfg = PoGDiffConfig(a1=2.0, a2=0.5, a3=1.0)
    assert torch.allclose(psi(s[:2], different[:2], density[:2], cfg),
                          torch.tensor([0.4**2 / 0.5, 0.4**2.5 / 0.5]))  # fmt: skip
    # Table 5's ablation: a factor switched off is 1
    no_sim = PoGDiffConfig(a3=2.0, similarity_term=False)
    assert torch.allclose(psi(s, different, density, no_sim), 1 / (2.0 * density))
    no_den = PoGDiffConfig(density_term=False)
    assert torch.allclose(psi(s, different, density, no_den),
                          torch.tensor([0.4, 0.16, 0.0, 0.0, 0.81]))  # fmt: skip


def test_loss_by_hand():
    out = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    out_nb = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
    target = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    weight = torch.tensor([0.5, 2.0])
    # row 0: (0 + 4) / 2 + 0.5 (1 + 0) / 2 = 2.25; row 1: (0 + 1) / 2 + 2 (1 + 4) / 2 = 5.5
    assert float(pogdiff_loss(out, out_nb, target, weight)) == pytest.approx((2.25 + 5.5) / 2)
    zero = pogdiff_loss(out, out_nb, target, torch.zeros(2))
    assert float(zero) == pytest.approx(float(torch.nn.functional.mse_loss(out, target)))


def test_train_step_loss_by_hand_with_fixed_neighbours():
    """One training step's loss against eq. 13 computed here: fixed neighbours (k = 1), known
    psi, the network's outputs for y and y' taken from the network itself."""
    Z, c = _data(40)
    cfg = PoGDiffConfig(k_neighbours=1, a1=1.0, a2=2.0, a3=0.5, dropout=0.0, use_ema=False,
                        early_stopping=False, **SMALL)  # fmt: skip
    g = FeaturePoGDiff(cfg, progress=False)
    z, y = g._standardised(Z, c)
    with torch.random.fork_rng():  # fixed weights, whatever ran before
        torch.manual_seed(0)
        modules, opts, _, history = g._build(z.shape[1])
        net = modules["net"]
        with torch.no_grad():
            net.out_proj.weight.normal_(0, 0.1)  # not zero: v(z_t, y) and v(z_t, y') differ
            net.blocks[0].cond.weight.mul_(20.0)  # and differ much
    n = len(z)
    nb_index = torch.arange(n).roll(1)[:, None]  # row i's neighbour is row i - 1
    sim = torch.linspace(-0.2, 0.9, n)[:, None]
    density = torch.linspace(0.005, 0.05, n)
    g.neighbours_ = Neighbours(nb_index, torch.ones(n, 1), sim, density)
    gen = torch.Generator().manual_seed(5)
    parts = TrainingParts(modules, opts, None, history, gen, g.device, None, (), 1)
    state = gen.get_state()
    loss = float(g._train_step(parts, z, y, 0).detach())
    # the same draws, in the step's order: rows, steps, noise (the k = 1 draw is row i - 1)
    gen.set_state(state)
    rows = torch.randint(n, (cfg.batch_size,), generator=gen)
    t = torch.randint(cfg.timesteps, (cfg.batch_size,), generator=gen)
    eps = torch.randn((cfg.batch_size, z.shape[1]), generator=gen)
    # the network's outputs before the step: PRE (kept by the fixture below)
    total, pull = 0.0, 0.0
    abar = g.alphas_cumprod_.double()
    for i in range(cfg.batch_size):
        r, nb = int(rows[i]), int(nb_index[rows[i], 0])
        a = abar[t[i]]
        z0, e = z[r].double(), eps[i].double()
        zt = (a.sqrt() * z0 + (1 - a).sqrt() * e).float()  # eq. 3
        v = a.sqrt() * e - (1 - a).sqrt() * z0  # eq. 5
        with torch.no_grad():
            o = PRE(zt[None], y[r : r + 1], t[i : i + 1] + 1)[0].double()
            o_nb = PRE(zt[None], y[nb : nb + 1], t[i : i + 1] + 1)[0].double()
        s = float(sim[r, 0])
        e_ = cfg.a1 + cfg.a2 * float(y[nb] != y[r])
        p = (max(s, 0.0) ** e_ if s > 0 else 0.0) / (cfg.a3 * float(density[r]))  # eq. 12
        total += float(((o - v) ** 2).mean() + p * ((o - o_nb) ** 2).mean())  # eq. 13
        pull += float(p * ((o - o_nb) ** 2).mean())
    assert pull > 0.2 * total  # the neighbour term is a real part of what is checked
    assert loss == pytest.approx(total / cfg.batch_size, rel=1e-5)


PRE = None  # the pre-step network of the test above (set by the fixture below)


@pytest.fixture(autouse=True)
def _keep_pre_step_network(monkeypatch):
    """Keep a copy of the network before the optimiser step of ``_train_step``."""
    import copy

    from latentdiff.generators import pogdiff

    real = pogdiff.optimiser_step

    def keep(opt, loss, module, clip):
        global PRE
        PRE = copy.deepcopy(module).eval()
        real(opt, loss, module, clip)

    monkeypatch.setattr(pogdiff, "optimiser_step", keep)


def test_neighbours_match_scikit_learn_cosine():
    Z, _ = _data(60, 5)
    idx, sim = cosine_neighbours(torch.as_tensor(Z), 4)
    S = cosine_similarity(Z.astype(np.float64))
    np.fill_diagonal(S, -np.inf)
    want = np.sort(S, axis=1)[:, ::-1][:, :4]
    assert np.allclose(sim.numpy(), want)
    assert np.allclose(np.take_along_axis(S, idx.numpy(), axis=1), want)
    assert not np.any(idx.numpy() == np.arange(60)[:, None])  # never its own neighbour


def test_neighbour_draw_is_proportional_to_similarity():
    sim = torch.tensor([[0.6, 0.3, 0.1, -0.2], [-0.1, -0.5, -0.6, -0.9]])
    probs = neighbour_probabilities(sim)
    assert torch.allclose(probs[0], torch.tensor([0.6, 0.3, 0.1, 0.0]))  # eq. 8
    assert torch.allclose(probs[1], torch.full((4,), 0.25))  # all <= 0: psi is 0 anyway
    g = FeaturePoGDiff(PoGDiffConfig(), progress=False)
    g.neighbours_ = Neighbours(torch.tensor([[10, 11, 12, 13]]), probs[:1].float(),
                               sim[:1].float(), torch.ones(1))  # fmt: skip
    gen = torch.Generator().manual_seed(0)
    drawn, s = g.draw_neighbours(torch.zeros(20_000, dtype=torch.int64), gen)
    freq = np.bincount(drawn.numpy() - 10, minlength=4) / 20_000
    # binomial standard error <= 0.0035: 5 of them is far beyond chance
    assert np.allclose(freq, [0.6, 0.3, 0.1, 0.0], atol=0.0175)
    assert torch.equal(s, sim[0, drawn - 10].float())


def test_bin_density_is_the_lds_smoothed_count_on_the_bin_grid():
    c = np.array([0.5] * 6 + [1.5] * 3 + [3.5] * 1)  # bin centres, the bin at 2.5 empty
    density, smoothed = bin_density(c)
    grid = convolve1d(np.array([6.0, 3.0, 0.0, 1.0]), lds_kernel("gaussian", 5, 2.0),
                      mode="constant", cval=0.0)  # fmt: skip
    assert np.allclose(smoothed, grid[[0, 1, 3]])
    raw = np.array([grid[0]] * 6 + [grid[1]] * 3 + [grid[3]])
    assert np.allclose(density / raw, density[0] / raw[0])  # proportional to the smoothed count
    assert np.mean(1 / density) == pytest.approx(1.0)
    assert density[-1] < density[:-1].min()  # the rare bin has the lowest density
    assert np.array_equal(bin_density(np.full(5, 2.0))[0], np.ones(5))  # one bin


def test_k_larger_than_the_rows_is_refused():
    Z, c = _data(12)
    cfg = PoGDiffConfig(k_neighbours=12, n_steps=2, early_stopping=False, **SMALL)
    with pytest.raises(ValueError, match="k_neighbours = 12 is more than the 11 other"):
        FeaturePoGDiff(cfg, progress=False).fit(Z, c)


def test_k_larger_than_a_bin_and_a_single_row_bin():
    Z, c = _data(60)
    c[0] = 9.0  # a bin of one row: all its neighbours are in other bins
    cfg = PoGDiffConfig(k_neighbours=20, n_steps=3, early_stopping=False, **SMALL)
    g = FeaturePoGDiff(cfg, progress=False, random_state=0).fit(Z, c)
    nb = g.neighbours_
    yb = torch.as_tensor(c)  # no held-out split: training rows are the input rows
    assert np.sum(c == 3.0) < 20  # k is larger than the rarest bins
    assert bool((yb[nb.index[0]] != 9.0).all())
    assert 0 < g.psi_summary_["other_bin_share"] < 1
    assert np.isfinite(g.loss_history_).all()
    assert g.sample(np.array([9.0, 0.0]), random_state=0).shape == (2, 4)


def test_fit_is_deterministic_and_differs_from_plain_diffusion():
    Z, c = _data(80)
    cfg = PoGDiffConfig(k_neighbours=5, n_steps=20, early_stopping=False, **SMALL)
    a = GENERATORS["pogdiff"](cfg, progress=False, random_state=2).fit(Z, c)
    b = GENERATORS["pogdiff"](cfg, progress=False, random_state=2).fit(Z, c)
    assert a.loss_history_ == b.loss_history_
    assert np.array_equal(a.sample(c[:10], random_state=1), b.sample(c[:10], random_state=1))
    plain = GENERATORS["diffusion"](
        {k: v for k, v in cfg.to_dict().items() if k in GENERATORS["diffusion"].config_class()
         .to_dict()}, progress=False, random_state=2,
    ).fit(Z, c)  # fmt: skip
    assert plain.loss_history_ != a.loss_history_


def test_settings_method_and_cli_surfaces():
    assert get_method("pogdiff").generators() == ("pogdiff",)
    assert get_method("latentdiff").generators("pogdiff") == ("pogdiff",)
    assert get_method("pogdiff+lds") is not None
    with pytest.raises(ValueError, match="pogdiff generator"):
        get_method("pogdiff").generators("gan")
    cfg = BenchConfig.from_dict({"methods": ["vanilla", "pogdiff"]})
    assert isinstance(cfg.sampler.pogdiff, PoGDiffConfig)
    assert cfg.sampler.diffusion is None  # plain diffusion's settings: no method uses them
    assert SamplerConfig(generator="pogdiff").generator == "pogdiff"
    for bad in ({"a3": 0.0}, {"k_neighbours": 0}, {"a1": -1.0}):
        with pytest.raises(Exception, match=next(iter(bad))):
            PoGDiffConfig(**bad)


@pytest.mark.slow  # an end-to-end run: about 10 s
def test_the_command_line_runs_pogdiff_and_refuses_bad_settings(tmp_path, capsys):
    data = tmp_path / "t.csv"
    long_tailed_frame(300).to_csv(data, index=False)
    base = ["--data", str(data), "--target", "target", "--no-progress", "--epochs", "2"]
    rc = main(["bench", *base, "--methods", "pogdiff", "--pogdiff-option", "k_neighbours=0",
               "--out", str(tmp_path / "refused")])  # fmt: skip
    assert rc == 2 and "k_neighbours" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()
    out = tmp_path / "run"
    opts = ["n_steps=20", "hidden_dim=32", "k_neighbours=7", "a3=2"]
    rc = main(["run", *base, "--generator", "pogdiff", "--out", str(out),
               *[x for o in opts for x in ("--pogdiff-option", o)]])  # fmt: skip
    assert rc == 0
    runs = json.loads((out / "runs.json").read_text())
    config = json.loads((out / "config.json").read_text())["bench"]
    entry = next(r for r in runs if r["method"] == "latentdiff")
    assert entry["generator"] == "pogdiff" and entry["pogdiff_psi"]["mean"] > 0
    assert config["sampler"]["pogdiff"]["k_neighbours"] == 7
    assert config["sampler"]["pogdiff"]["a3"] == 2.0 and config["sampler"]["diffusion"] is None


def test_the_generator_rows_are_known_from_the_labels_before_training():
    rng = np.random.default_rng(3)
    y = rng.exponential(size=500)
    Z = (rng.normal(size=(500, 4)) + y[:, None]).astype(np.float32)
    cfg = PoGDiffConfig(k_neighbours=3, n_steps=2, **SMALL)
    sampler = SamplerConfig(n_bins=6, pogdiff=cfg)
    n = generator_rows(y, sampler, cfg)
    s = LatentDiffSampler.from_config(sampler, generator="pogdiff", random_state=0).fit(Z, y)
    held = s.generator_.early_stopping_["heldout_rows"]
    assert held >= 32 and n == 500 - held == len(s.generator_.neighbours_.index)
    assert generator_rows(y, sampler, cfg.replace(early_stopping=False)) == 500
    assert generator_rows(y[:200], sampler, cfg) == 200  # under 32 held-out rows: none held out
    # k = n - 1 passes, k = n is refused with the fit's own words
    check_neighbours_before_training(y, sampler.replace(pogdiff=cfg.replace(k_neighbours=n - 1)))
    with pytest.raises(ValueError, match=f"k_neighbours = {n} is more than the {n - 1} other"):
        check_neighbours_before_training(y, sampler.replace(pogdiff=cfg.replace(k_neighbours=n)))
    with pytest.raises(ValueError, match=f"k_neighbours = {n} is more than the {n - 1} other"):
        cosine_neighbours(torch.zeros(n, 2), n)
    check_neighbours_before_training(y, SamplerConfig())  # no pogdiff settings: nothing to check
    check_neighbours_before_training(y, None)


def test_an_oversized_k_is_refused_before_stage_1(tmp_path, capsys, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("stage 1 started")

    monkeypatch.setattr(latentdiff.bench, "seed_context", no_training)
    data = tmp_path / "t.csv"
    long_tailed_frame(300).to_csv(data, index=False)
    rc = main(["bench", "--data", str(data), "--target", "target", "--no-progress",
               "--methods", "vanilla,pogdiff", "--pogdiff-option", "k_neighbours=5000",
               "--out", str(tmp_path / "refused")])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "k_neighbours = 5000 is more than the" in err
    assert not (tmp_path / "refused" / "config.json").exists()
    import latentdiff.methods as methods
    from latentdiff.estimator import LatentDiffRegressor

    monkeypatch.setattr(methods, "RunContext", no_training)
    frame = long_tailed_frame(300)
    est = LatentDiffRegressor(
        method="pogdiff",
        progress=False,
        sampler=SamplerConfig(pogdiff=PoGDiffConfig(k_neighbours=5000)),
    )
    with pytest.raises(ValueError, match="k_neighbours = 5000 is more than the"):
        est.fit(frame.drop(columns="target"), frame["target"])


def test_the_tuned_method_takes_pogdiff_as_a_candidate(tiny_dataset, tmp_path):
    from latentdiff.encoders import make_encoder

    pog = PoGDiffConfig(**FAST_DIFFUSION, k_neighbours=5)
    ctx = RunContext(
        tiny_dataset, lambda: make_encoder("mlp"), TrainConfig(epochs=3), 0,
        sampler=SamplerConfig(n_bins=8, pogdiff=pog), head=HeadConfig(epochs=4),
        progress=False, checkpoints=tmp_path / "seed-0",
    )  # fmt: skip
    tune = TuneConfig(
        ratios=(0.25, 1.0), priority_weights=(0.7,), region_allocations=(), quantiles=(),
        gate_off=False, synthetic_weights=(1.0,), generators=("gaussian", "pogdiff"),
    )  # fmt: skip
    out, _ = ctx.run_method("latentdiff-tuned", {"latentdiff-tuned": tune.to_dict()})
    report = out.info["tuning"]
    scored = [c for c in report["candidates"] if c["generator"] == "pogdiff"]
    assert [c["stage"] for c in scored] == ["generator"] * 2  # pogdiff at each ratio
    assert report["generators"]["pogdiff"]["n_candidates"] == 2
    assert report["generators"]["pogdiff"]["fit_seconds"] > 0
    assert (
        tmp_path
        / "seed-0"
        / "generator"
        / "latentdiff-tuned"
        / "pogdiff"
        / "all"
        / "pogdiff.safetensors"
    ).exists()  # trained, as its checkpoint shows
    best = min(report["candidates"], key=lambda c: (c["val_score"], c["ratio"]))
    assert report["chosen"] == {k: best[k] for k in report["chosen"]}
    assert np.isfinite(out.predictions["test"]).all()
