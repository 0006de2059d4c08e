"""Zero-shot label ranges (seed 004, Table 6): the split, the regions, the refusals, and
LatentDiff's generation in empty bins (``empty_bins``)."""

import numpy as np
import pandas as pd
import pytest

from latentdiff.augment import interior_empty_bins, interpolate_errors, priority
from latentdiff.bench import split_metrics
from latentdiff.data.registry import check_loader_parameters
from latentdiff.data.tabular import dataset_from_frame
from latentdiff.methods import METHODS
from latentdiff.params import SettingError
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import DataConfig, SamplerConfig
from latentdiff.zeroshot import ZeroShot, parse_spec

SPEC = "interp=4:5,extrap=9:"


def _frame(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 10, n)
    return pd.DataFrame({"a": y + rng.normal(0, 0.1, n), "b": rng.normal(0, 1, n), "t": y})


def _load(zero_shot=None, df=None):
    return dataset_from_frame(_frame() if df is None else df, "t", eval_n_bins=20,
                              zero_shot=zero_shot)  # fmt: skip


def _in(y, a, b):
    return (y >= a) & (y <= b)


def test_the_split_removes_exactly_the_rows_in_range_and_keeps_their_test_rows():
    plain, zs = _load(), _load(SPEC)
    for part in ("train", "val"):
        y = getattr(plain, part).y
        out = _in(y, 4, 5) | (y >= 9)
        assert out.any()
        np.testing.assert_array_equal(getattr(zs, part).y, y[~out])  # the others, in order
        assert zs.info["zero_shot_removed"][part] == int(out.sum())
    np.testing.assert_array_equal(zs.test.y, plain.test.y)  # test rows kept, all of them
    assert _in(zs.test.y, 4, 5).any() and (zs.test.y >= 9).any()
    # the evaluation bins are those of the full training range; the gap's bins are empty
    np.testing.assert_array_equal(zs.eval_bins.edges, plain.eval_bins.edges)
    e, counts = zs.eval_bins.edges, zs.regions.train_counts
    inside = ((e[:-1] >= 4) & (e[1:] <= 5)) | (e[:-1] >= 9)
    assert inside.sum() >= 2 and counts[inside].sum() == 0
    np.testing.assert_array_equal(counts, zs.eval_bins.counts(zs.train.y))
    # the encoding is fitted on the rows that remain (standardised: mean 0 over training rows)
    np.testing.assert_allclose(zs.train.X[:, 0].mean(), 0, atol=1e-5)
    assert zs.summary()["zero_shot"]["ranges"] == [
        {"kind": "interp", "low": 4.0, "high": 5.0},
        {"kind": "extrap", "low": 9.0, "high": None},
    ]


def test_percentages_resolve_against_the_training_label_range():
    zs = ZeroShot.fit("interp=40%:50%,extrap=90%:", np.array([0.0, 5, 10]), np.array([4.5, 9.5]))
    assert zs.intervals == ((4.0, 5.0), (9.0, np.inf))


def test_region_labels_and_records_score_the_zero_shot_rows_apart():
    ds = _load(SPEC)
    y = ds.test.y
    err = np.where(_in(y, 4, 5), 3.0, np.where(y >= 9, 5.0, 1.0))  # one error per region kind
    m = split_metrics(ds, "test", y + err)
    assert list(m) == ["all", "many", "medium", "few", "with-data", "zero-shot-interp",
                       "zero-shot-extrap"]  # fmt: skip
    assert m["zero-shot-interp"]["mae"] == pytest.approx(3.0)
    assert m["zero-shot-extrap"]["mae"] == pytest.approx(5.0)
    assert m["with-data"]["mae"] == pytest.approx(1.0)
    for r in ("many", "medium", "few"):  # rows with training data only
        assert m[r]["mae"] in (None, pytest.approx(1.0))
    assert m["all"]["mae"] == pytest.approx(err.mean())  # all includes the zero-shot rows
    counts = ds.zero_shot_summary()["test_region_counts"]
    assert counts["zero-shot-interp"] == int(_in(y, 4, 5).sum())
    assert counts["zero-shot-extrap"] == int((y >= 9).sum())
    # without zero-shot ranges: the usual four regions only
    assert list(split_metrics(_load(), "test", y)) == ["all", "many", "medium", "few"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("interp=20:30", "holds no training label"),
        ("extrap=:10", "remove every training row"),
        ("interp=3:5,interp=4:6", "overlap"),
        ("interp=9:10.5", "reaches an end of the training labels.*extrap"),
        ("extrap=4:5", "interpolation gap"),
        ("interp=5:4", "LO must be below HI"),
        ("interp=:3", "needs both ends"),
        ("interp=a:3", "neither a label value nor a percentage"),
        ("gap=1:2", "KIND one of interp, extrap"),
        ("interp=1", "LO:HI"),
        ("extrap=:", "both ends open"),
        ("interp=40%:120%", r"percentage must lie in \[0, 100\]"),
    ],
)
def test_bad_specifications_are_refused_with_their_reason(spec, message):
    with pytest.raises(ValueError, match=message):
        _load(spec)


def test_a_range_without_test_rows_is_refused():
    with pytest.raises(ValueError, match="holds no test label"):
        ZeroShot.fit("interp=4:5", np.r_[0.0, 4.5, 10], np.r_[1.0, 8.0])


def test_the_setting_is_checked_where_it_enters_and_refused_where_it_does_not_apply():
    with pytest.raises(SettingError, match="KIND one of"):
        DataConfig(dataset="diamonds", zero_shot="middle")
    assert DataConfig(dataset="diamonds", zero_shot=SPEC).given() == {"zero_shot": SPEC}
    with pytest.raises(ValueError, match="--zero-shot .* does not apply to stsb-dir"):
        check_loader_parameters("stsb-dir", {"data": "x", "zero_shot": SPEC})
    assert parse_spec(" interp = 1:2 , extrap=90%: ")[1].lo.percent


# --- generation in empty bins ---------------------------------------------------------------------
def test_interior_empty_bins_and_their_interpolated_errors():
    mask = interior_empty_bins([0, 3, 0, 0, 2, 0])
    assert mask.tolist() == [False, False, True, True, False, False]  # not the ends
    e = interpolate_errors([np.nan, 1.0, np.nan, np.nan, 4.0, np.nan], np.arange(6.0), mask)
    np.testing.assert_allclose(e[1:5], [1.0, 2.0, 3.0, 4.0])
    assert np.isnan(e[0]) and np.isnan(e[5])
    p = priority(e, [0, 3, 0, 0, 2, 0], 0.5, "max", fill=mask)
    # by hand: e / 4 = [., .25, .5, .75, 1, .]; scarcity 1 - n / 3 = [., 0, 1, 1, 1/3, .]
    raw = np.array([0, 0.5 * 0.25, 0.5 * 0.5 + 0.5, 0.5 * 0.75 + 0.5, 0.5 + 0.5 / 3, 0])
    np.testing.assert_allclose(p, raw / raw.sum())
    with pytest.raises(ValueError, match="empty bins only"):
        priority(e, [0, 3, 0, 0, 2, 0], 0.5, fill=[False, True, False, False, False, False])


def _gap_data(n_side=100, m=4, seed=0):
    """Labels uniform on [0, 1] and [2, 3]: with 6 bins of width 0.5, bins 2 and 3 are a gap."""
    rng = np.random.default_rng(seed)
    y = np.r_[rng.uniform(0, 1, n_side), rng.uniform(2, 3, n_side)]
    y[[0, -1]] = 0.0, 3.0  # the exact range: edges 0, 0.5, ..., 3
    Z = np.c_[y, rng.normal(0, 1, (y.size, m - 1))].astype(np.float32)
    return Z, y


@pytest.mark.parametrize("empty_bins", ["skip", "interp"])
def test_generation_in_a_gap_by_hand(empty_bins):
    Z, y = _gap_data()
    s = LatentDiffSampler(n_bins=6, ratio=0.48, generator="gaussian", gate=False,
                          empty_bins=empty_bins, random_state=0)  # fmt: skip
    counts = np.bincount(np.floor(y / 0.5).clip(0, 5).astype(int), minlength=6)
    assert counts[2:4].tolist() == [0, 0] and counts.min() == 0
    # equal errors everywhere (1.0): e / max e = 1; eq. 9 with lambda 0.7
    _, y_all = s.fit_resample(Z, y, sample_errors=np.ones(y.size))
    y_syn = y_all[y.size :]
    requested = np.array([r["requested"] for r in s.report_])
    assert requested.sum() == 96  # 0.48 * 200
    n = counts.astype(float)
    full = 0.7 + 0.3 * (1 - n / n.max())
    if empty_bins == "skip":
        expected = 96 * np.where(n > 0, full, 0) / np.where(n > 0, full, 0).sum()
        assert requested[2:4].tolist() == [0, 0]
        assert not np.any((y_syn > 1) & (y_syn < 2))
    else:
        p = np.where(n > 0, full, 1.0)  # the gap: scarcity 1, error interpolated (1.0)
        expected = 96 * p / p.sum()
        assert [r["filled"] for r in s.report_] == [False, False, True, True, False, False]
        # generated at the gap bins' centres, as many as allocated (no gate)
        assert np.sum(y_syn == 1.25) == requested[2] > 0
        assert np.sum(y_syn == 1.75) == requested[3] > 0
    np.testing.assert_allclose(requested, expected, atol=1)


def test_the_gate_pools_a_gap_bin_from_its_neighbours():
    Z, y = _gap_data()
    s = LatentDiffSampler(n_bins=6, ratio=0.5, generator="gaussian", empty_bins="interp",
                          random_state=0).fit(Z, y)  # fmt: skip
    g = s.gate_.gates_
    assert 2 in g and 3 in g  # pooled from the bins on both sides of the gap
    assert g[2].bins_used == g[3].bins_used == (1, 4)
    assert g[2].n_real == s.bin_counts_[1] + s.bin_counts_[4]
    assert (
        2
        not in LatentDiffSampler(n_bins=6, generator="gaussian", random_state=0)
        .fit(Z, y)
        .gate_.gates_
    )  # skip: no gate, nothing generated there


def test_latentdiff_fill_runs_latentdiff_with_empty_bins_interp():
    method = METHODS["latentdiff-fill"]()
    assert method.sampler_settings(SamplerConfig()).empty_bins == "interp"
    assert METHODS["latentdiff"]().sampler_settings(SamplerConfig()).empty_bins == "skip"
    with pytest.raises(SettingError, match="empty_bins"):
        SamplerConfig(empty_bins="all")


def test_records_and_results_md_carry_the_zero_shot_regions():
    from latentdiff.bench import _records
    from latentdiff.reporting.tables import results_table

    ds = _load(SPEC)
    y = ds.test.y
    records = []
    for seed in (0, 1):
        records += _records(ds.name, "vanilla", seed, split_metrics(ds, "test", y + 1.0 + seed))
    regions = list(dict.fromkeys(r["region"] for r in records))
    assert regions == ["all", "many", "medium", "few", "with-data", "zero-shot-interp",
                       "zero-shot-extrap"]  # fmt: skip
    runs = [{"method": "vanilla", "seed": s, "seconds": 1.0} for s in (0, 1)]
    md = results_table(records, runs, ds, ("mae",))
    n = ds.zero_shot_summary()["test_region_counts"]
    assert f"## Zero-shot regions ({SPEC})" in md
    assert (
        "| vanilla | 1.5000 ± 0.7071 | 1.5000 ± 0.7071 | 1.5000 ± 0.7071 | 1.5000 ± 0.7071 |" in md
    )
    shot = ", ".join(f"{r} {n.get(r, 0)}" for r in ("many", "medium", "few"))
    assert f"all {y.size}, {shot}." in md  # the shot counts leave the zero-shot rows out
    assert sum(n.get(r, 0) for r in ("many", "medium", "few")) < y.size
