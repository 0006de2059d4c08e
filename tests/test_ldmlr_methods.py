"""The classification methods around LDMLR (seed 002): the ``<base>+ldmlr`` combiner, WCDAS's
wrapped Cauchy head against scipy, the weighted eq. 13, the per-class Gaussian control generator
and the cache that shares stage 1 across settings."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from latentdiff.classification.class_diffusion import LDMLR_DIFFUSION
from latentdiff.classification.class_gaussian import ClassGaussian
from latentdiff.classification.ldmlr import fine_tune_loss
from latentdiff.classification.methods import (
    CLASS_METHODS,
    LDMLRSettings,
    check_methods,
    parse_method,
    run_classification,
)
from latentdiff.classification.wcdas import WrappedCauchyHead, wrapped_cauchy_density


def test_parse_method_names():
    assert parse_method("ce") == ("ce", False)
    assert parse_method("ldmlr") == ("ce", True)
    assert parse_method("ce+ldmlr") == ("ce", True)
    assert parse_method("crt+ldmlr") == ("crt", True)
    assert parse_method("label-shift+ldmlr") == ("label-shift", True)
    assert parse_method("ce-ft") == ("ce-ft", False)
    assert all(check_methods(CLASS_METHODS))
    with pytest.raises(ValueError, match="unknown base method 'focal' in 'focal\\+ldmlr'"):
        parse_method("focal+ldmlr")
    with pytest.raises(ValueError, match="'\\+' combines a base method with ldmlr only"):
        parse_method("ce+cb")
    with pytest.raises(ValueError, match="unknown classification method"):
        parse_method("focal")
    with pytest.raises(ValueError, match="no classification method"):
        check_methods([])


def test_wrapped_cauchy_density_by_hand_and_scipy():
    # rho = 1/2: cos 1 -> 0.75 / (2 pi 0.25) = 1.5 / pi; cos 0 -> 0.75 / (2 pi 1.25) = 0.3 / pi
    rho = torch.tensor(0.5)
    out = wrapped_cauchy_density(torch.tensor([1.0, 0.0]), rho)
    assert out.tolist() == pytest.approx([1.5 / math.pi, 0.3 / math.pi], rel=1e-6)
    theta = np.linspace(0.0, math.pi, 7)
    for r in (0.1, 0.6, 0.9):
        mine = wrapped_cauchy_density(
            torch.tensor(np.cos(theta)), torch.tensor(r, dtype=torch.float64)
        )
        assert mine.numpy() == pytest.approx(stats.wrapcauchy.pdf(theta, r), rel=1e-9)


def test_wrapped_cauchy_head_by_hand():
    torch.manual_seed(0)
    head = WrappedCauchyHead(2, 2, g_init=0.0)  # rho = sigmoid(0) = 1/2, s = 1 + ln 2
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, -1.0]]))
    z = torch.tensor([[2.0, 0.0]])  # angle 0 to class 0, pi/2 to class 1: cos 1 and 0
    s = 1.0 + math.log(2.0)
    assert head(z)[0].tolist() == pytest.approx([s * 1.5 / math.pi, s * 0.3 / math.pi], rel=1e-6)
    fixed = WrappedCauchyHead(2, 2, scale=250.0)
    assert not fixed.s_raw.requires_grad and float(fixed.scale) == 250.0
    with pytest.raises(ValueError, match="scale"):
        WrappedCauchyHead(2, 2, scale=0.0)


def test_weighted_fine_tune_loss_by_hand():
    # two real rows, classes 0 and 1, each p(y) = 1/2; weights (3, 1): weighted mean of ln 2 = ln 2
    # and with one row at p = 3/4: (3 (-ln 3/4) + 1 (-ln 1/2)) / 4
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])
    y = torch.tensor([0, 1])
    w = torch.tensor([3.0, 1.0])
    loss = fine_tune_loss(logits, y, logits[:0], y[:0], weight=w)
    assert float(loss) == pytest.approx((3 * -math.log(0.75) + -math.log(0.5)) / 4, rel=1e-6)


def test_class_gaussian_control():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [200, 60, 30])
    Z = rng.normal(size=(len(y), 3)) + 4.0 * y[:, None]
    g = ClassGaussian(random_state=0).fit(Z, y)
    s = g.sample(np.repeat([0, 2], 500), random_state=1)
    assert s[:500].mean(0) == pytest.approx([0, 0, 0], abs=0.25)
    assert s[500:].mean(0) == pytest.approx([8, 8, 8], abs=0.35)
    assert np.array_equal(s, g.sample(np.repeat([0, 2], 500), random_state=1))
    with pytest.raises(ValueError, match="no training rows for class\\(es\\) \\[5\\]"):
        g.sample([5])
    with pytest.raises(ValueError, match="at least 2 training rows per class.*class 1 has 1"):
        ClassGaussian().fit(Z[:201], y[:201])


def test_tail_target_is_the_rarest_region_present():
    from latentdiff.classification.ldmlr import generation_counts, resolve_target

    counts = np.array([300, 150, 60, 25, 10])  # 545 rows; ratio 0.2 -> 109 features
    regions = np.array(["many", "many", "medium", "medium", "few"], dtype=object)
    assert resolve_target(regions, "tail") == "few"
    assert generation_counts(counts, regions, "tail").tolist() == [0, 0, 0, 0, 109]
    # no few class: the medium classes are the tail; 535 rows -> 107 = 53 + 54, the extra one
    # to the rarer class
    assert resolve_target(regions[:4], "tail") == "medium"
    assert generation_counts(counts[:4], regions[:4], "tail").tolist() == [0, 0, 53, 54]
    assert resolve_target(regions[:2], "tail") == "many"
    assert resolve_target(regions, "all") == "all"
    with pytest.raises(ValueError, match="target must be one of"):
        resolve_target(regions, "rare")


def test_class_resample_control_draws_own_rows():
    from latentdiff.classification.resample import ClassResample

    Z = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([0, 0, 0, 1, 1, 2])
    r = ClassResample().fit(Z, y)
    s = r.sample(np.array([1] * 50 + [2] * 3), random_state=0)
    assert {tuple(v) for v in s[:50]} == {(6.0, 7.0), (8.0, 9.0)}  # both rows of class 1
    assert (s[50:] == Z[5]).all()
    assert np.array_equal(s, r.sample(np.array([1] * 50 + [2] * 3), random_state=0))
    with pytest.raises(ValueError, match="no training rows"):
        r.sample([3])


def test_settings_refusals():
    for kw, msg in [({"generator": "vae"}, "generator"), ({"target": "rare"}, "target"),
                    ({"ratio": -0.5}, "ratio"), ({"use": "real"}, "use")]:  # fmt: skip
        with pytest.raises(ValueError, match=msg):
            LDMLRSettings(**kw)


def test_combiner_on_digits_with_a_shared_cache():
    from latentdiff.classification.loaders import load_digits_lt

    ds = load_digits_lt(imbalance_factor=10)
    small = dict(LDMLR_DIFFUSION, n_steps=40)
    s = LDMLRSettings(target="few", epochs=3, diffusion=small)
    methods = ("ce", "ldmlr", "ce+ldmlr", "crt", "crt+ldmlr", "cb+ldmlr", "wcdas", "wcdas+ldmlr")
    cache: dict = {}
    rows, details = run_classification(ds, methods, 0, encoder="mlp", epochs=4, ldmlr=s,
                                       cache=cache)  # fmt: skip
    acc = {r["method"]: r["value"] for r in rows if r["metric"] == "accuracy" and
           r["region"] == "all"}  # fmt: skip
    assert set(acc) == set(methods)
    assert acc["ldmlr"] == acc["ce+ldmlr"]
    assert set(details["stage1"]) == {"ce", "cb", "wcdas"}
    assert set(details["fine_tune_loss"]) == {"ldmlr", "crt+ldmlr", "cb+ldmlr", "wcdas+ldmlr"}
    # the cache holds the stage-1 networks and the generators: a second call with another
    # setting trains nothing new, and the same setting again gives the same records
    n_keys = len(cache)
    again, _ = run_classification(ds, methods, 0, encoder="mlp", epochs=4, ldmlr=s, cache=cache)
    assert again == rows and len(cache) == n_keys
    fresh, _ = run_classification(ds, methods, 0, encoder="mlp", epochs=4, ldmlr=s)
    assert fresh == rows  # the cache changes nothing in the records
    gauss = LDMLRSettings(target="few", epochs=3, generator="gaussian", diffusion=small)
    g_rows, g_details = run_classification(ds, ("ldmlr",), 0, encoder="mlp", epochs=4,
                                           ldmlr=gauss, cache=cache)  # fmt: skip
    assert g_details["ldmlr"]["generator"] == "gaussian" and len(g_rows) == 8
    with pytest.raises(ValueError, match="another run"):
        run_classification(ds, ("ce",), 1, encoder="mlp", epochs=4, cache=cache)
