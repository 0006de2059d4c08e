"""RankSim and ConR: golden values from the authors' code plus hand-computable checks."""

import math

import numpy as np
import pytest
import torch
from conftest import load_golden

from latentdiff.methods.conr import conr_loss
from latentdiff.methods.ranksim import rank_normalised, ranksim_loss, unique_label_subset

RTOL = 1e-6


def t64(x):
    return torch.tensor(x, dtype=torch.float64)


# ------------------------------------------------------------------------------------------------
# RankSim
# ------------------------------------------------------------------------------------------------
RANKSIM = load_golden("ranksim")


@pytest.mark.parametrize(
    "case", RANKSIM["outputs"]["cases"], ids=lambda c: f"lambda={c['interpolation_lambda']}"
)
def test_ranksim_matches_reference(case):
    inp = RANKSIM["inputs"]
    x = t64(inp["features"]).requires_grad_()
    val = ranksim_loss(x, t64(inp["labels"]), case["interpolation_lambda"])
    (g,) = torch.autograd.grad(val, x)
    np.testing.assert_allclose(val.item(), case["value"], rtol=RTOL)
    # the reference adds 1e-8 to lambda in the backward pass: ~5e-9 relative
    np.testing.assert_allclose(g.numpy(), case["grad_features"], rtol=RTOL, atol=1e-12)


def test_rank_normalised_matches_reference():
    seq = torch.tensor([RANKSIM["inputs"]["rank_normalised_example_input"]])
    np.testing.assert_allclose(
        rank_normalised(seq)[0].numpy(), RANKSIM["outputs"]["rank_normalised_example"], rtol=1e-7
    )


def test_ranksim_zero_when_ranks_agree():
    # unit vectors at angles proportional to the labels (all within [0, pi)): cosine similarity
    # falls monotonically with |dy|, so feature and label rankings agree
    y = t64([0.0, 1.0, 2.5, 4.0, 7.0])
    ang = y / 8.0 * math.pi / 1.1
    x = torch.stack([torch.cos(ang), torch.sin(ang)], dim=1).requires_grad_()
    val = ranksim_loss(x, y)
    (g,) = torch.autograd.grad(val, x)
    assert val.item() == 0.0
    assert torch.count_nonzero(g) == 0


def test_ranksim_positive_when_ranks_disagree_and_single_label_is_zero():
    y = t64([0.0, 1.0, 2.0])
    x = t64([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]])  # sample 2 looks like sample 0
    assert ranksim_loss(x, y).item() > 0
    assert ranksim_loss(x, t64([5.0, 5.0, 5.0])).item() == 0.0


def test_unique_label_subset_is_deterministic():
    y = torch.tensor([3.0, 1.0, 3.0, 2.0, 1.0, 3.0])
    idx = unique_label_subset(y)
    assert idx.tolist() == [1, 3, 0]  # first occurrence of labels 1, 2, 3
    a = unique_label_subset(y, torch.Generator().manual_seed(5))
    b = unique_label_subset(y, torch.Generator().manual_seed(5))
    assert a.tolist() == b.tolist()
    assert y[a].tolist() == [1.0, 2.0, 3.0]
    picks = {
        tuple(unique_label_subset(y, torch.Generator().manual_seed(s)).tolist()) for s in range(30)
    }
    assert len(picks) > 1  # the generator does randomise the occurrence


def test_ranksim_with_repeated_labels_uses_the_subset():
    rng = np.random.default_rng(0)
    x = t64(rng.normal(size=(6, 4)))
    y = t64([0.0, 2.0, 0.0, 5.0, 2.0, 9.0])
    idx = unique_label_subset(y)
    np.testing.assert_allclose(ranksim_loss(x, y).item(), ranksim_loss(x[idx], y[idx]).item())
    np.testing.assert_allclose(
        ranksim_loss(x, y, indices=torch.tensor([2, 4, 3, 5])).item(),
        ranksim_loss(x[[2, 4, 3, 5]], y[[2, 4, 3, 5]]).item(),
    )


def test_ranksim_blackbox_gradient_by_hand():
    # one anchor row: d/ds of MSE via the blackbox rule -(rk(s) - rk(s + lambda g)) / lambda
    from latentdiff.methods.ranksim import _BlackboxRank

    s = t64([[0.9, 0.1, 0.5]]).requires_grad_()
    r = _BlackboxRank.apply(s, 2.0)
    target = t64([[1 / 3, 1.0, 2 / 3]])
    loss = ((r - target) ** 2).mean()
    (g,) = torch.autograd.grad(loss, s)
    g_out = 2 * (rank_normalised(s.detach()) - target) / 3
    expect = -(rank_normalised(s.detach()) - rank_normalised(s.detach() + 2.0 * g_out)) / 2.0
    np.testing.assert_allclose(g.numpy(), expect.numpy())


# ------------------------------------------------------------------------------------------------
# ConR
# ------------------------------------------------------------------------------------------------
CONR = load_golden("conr")


def _conr_inputs(case):
    inp = CONR["inputs"]
    f1 = t64(inp["features_view1"]).requires_grad_()
    f2 = t64(inp["features_view2"]).requires_grad_()
    preds = t64(inp["preds_view1"] + inp["preds_view2"])
    weights = t64(inp["weights"]) if case["weighted"] else None
    return f1, f2, t64(inp["labels"]), preds, weights


@pytest.mark.parametrize(
    "case",
    CONR["outputs"]["cases"],
    ids=lambda c: f"w={c['w']}-t={c['t']}-e={c['e']}-wt={c['weighted']}",
)
def test_conr_reference_compat_matches_reference(case):
    f1, f2, y, p, wt = _conr_inputs(case)
    val = conr_loss(
        f1,
        f2,
        y,
        p,
        w=case["w"],
        temperature=case["t"],
        e=case["e"],
        weights=wt,
        reference_compat=True,
    )
    g1, g2 = torch.autograd.grad(val, [f1, f2])
    np.testing.assert_allclose(val.item(), case["value"], rtol=RTOL)
    np.testing.assert_allclose(
        torch.cat([g1, g2]).numpy(), case["grad_features"], rtol=RTOL, atol=1e-12
    )


def naive_conr(z1, z2, y, p, w, tau, e, wt, reference_compat):
    """Eq. 1-2 of Keramati et al. (2024) written as plain loops over anchors and pairs."""
    z = np.concatenate([z1, z2])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    y, wt = np.concatenate([y, y]), np.concatenate([wt, wt])
    n, total = len(z), 0.0
    for j in range(n):
        pos = [i for i in range(n) if i != j and abs(y[i] - y[j]) <= w]
        neg = [q for q in range(n) if abs(y[q] - y[j]) > w and abs(p[q] - p[j]) <= w]
        if not neg or not pos:
            continue
        den = sum(math.exp(z[j] @ z[i] / tau) for i in pos)
        den += sum(
            wt[j] * math.exp(e * abs(y[j] - y[q])) * math.exp(z[j] @ z[q] / tau) for q in neg
        )
        if reference_compat:
            den += n - len(pos)
        lj = -sum(math.log(math.exp(z[j] @ z[i] / tau) / den) for i in pos) / len(pos)
        total += lj * (wt[j] if reference_compat else 1.0)
    return total / n


@pytest.mark.parametrize(
    "case",
    CONR["outputs"]["cases"],
    ids=lambda c: f"w={c['w']}-t={c['t']}-e={c['e']}-wt={c['weighted']}",
)
@pytest.mark.parametrize("compat", [False, True])
def test_conr_matches_loop_formula(case, compat):
    f1, f2, y, p, wt = _conr_inputs(case)
    val = conr_loss(
        f1,
        f2,
        y,
        p,
        w=case["w"],
        temperature=case["t"],
        e=case["e"],
        weights=wt,
        reference_compat=compat,
    )
    wts = np.ones(6) if wt is None else wt.numpy()
    expect = naive_conr(
        f1.detach().numpy(),
        f2.detach().numpy(),
        y.numpy(),
        p.numpy(),
        case["w"],
        case["t"],
        case["e"],
        wts,
        compat,
    )
    np.testing.assert_allclose(val.item(), expect, rtol=1e-10)


def test_conr_paper_and_reference_differ():
    case = CONR["outputs"]["cases"][0]
    f1, f2, y, p, wt = _conr_inputs(case)
    paper = conr_loss(f1, f2, y, p, w=1.0, temperature=0.2, e=0.01)
    assert abs(paper.item() - case["value"]) > 1e-3  # the extra exp(0) terms of the reference


def test_conr_zero_without_negatives_and_per_sample_preds():
    rng = np.random.default_rng(2)
    f1, f2 = t64(rng.normal(size=(5, 3))), t64(rng.normal(size=(5, 3)))
    y = t64([0.0, 2.0, 4.0, 6.0, 8.0])
    # perfect predictions: similar predictions only for similar labels, so no anchors
    assert conr_loss(f1, f2, y, y.clone(), w=1.0).item() == 0.0
    p = t64([0.0, 0.5, 4.0, 6.5, 7.8])
    a = conr_loss(f1, f2, y, p, w=1.0)
    b = conr_loss(f1, f2, y, torch.cat([p, p]), w=1.0)
    assert a.item() > 0
    np.testing.assert_allclose(a.item(), b.item())


def test_conr_gradcheck():
    rng = np.random.default_rng(3)
    f1 = t64(rng.normal(size=(4, 3))).requires_grad_()
    f2 = t64(rng.normal(size=(4, 3))).requires_grad_()
    y, p = t64([0.0, 0.5, 3.0, 3.4]), t64([0.2, 2.8, 2.9, 3.3])
    wt = t64([1.0, 2.0, 0.5, 1.5])
    assert torch.autograd.gradcheck(
        lambda a, b: conr_loss(a, b, y, p, w=1.0, temperature=0.2, e=0.1, weights=wt), (f1, f2)
    )


def test_conr_validates():
    x = t64(np.ones((3, 2)))
    with pytest.raises(ValueError):
        conr_loss(x, x[:2], t64([0.0, 1.0, 2.0]), t64([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError):
        conr_loss(x, x, t64([0.0, 1.0, 2.0]), t64([0.0, 1.0]))
