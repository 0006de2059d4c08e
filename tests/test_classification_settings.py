"""The classification task's typed settings in BenchConfig: defaults resolved, JSON round trip,
regression configurations (and config.json files written before the task existed) unchanged."""

import json

import pytest

from latentdiff.classification.benchmark import ldmlr_settings
from latentdiff.classification.class_diffusion import LDMLR_DIFFUSION
from latentdiff.classification.methods import LDMLRSettings
from latentdiff.params import SettingError
from latentdiff.settings import (
    BenchConfig,
    ClassificationConfig,
    DiffusionConfig,
    LDMLRConfig,
    LDMLRDiffusionConfig,
)


def test_classification_config_resolves_and_round_trips_through_json():
    cfg = BenchConfig(task="classification", methods=("ce", "ldmlr"), seeds=(0, 1),
                      classification={"dataset": "digits-lt",
                                      "ldmlr": {"target": "few", "ratio": 0.4}})  # fmt: skip
    c = cfg.classification
    assert (c.encoder, c.epochs, c.imbalance_factor) == ("mlp", 60, 10.0)  # digits-lt's
    assert c.ldmlr.target == "few" and c.ldmlr.ratio == 0.4 and c.ldmlr.gamma == 0.05
    assert cfg.table_metrics == ("accuracy", "macro_f1")
    back = BenchConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert back == cfg and back.comparable() == cfg.comparable()


def test_ldmlr_defaults_are_seed_002s_and_reach_the_methods_unchanged():
    d = LDMLRDiffusionConfig()
    assert d.to_dict() == DiffusionConfig(**LDMLR_DIFFUSION, n_steps=3000).to_dict()
    ours, theirs = ldmlr_settings(LDMLRConfig()), LDMLRSettings()  # the methods' defaults
    assert ours.diffusion == DiffusionConfig(**theirs.diffusion).to_dict()
    assert {**vars(ours), "diffusion": None} == {**vars(theirs), "diffusion": None}
    s = ldmlr_settings(LDMLRConfig(target="few", diffusion={"n_steps": 50}))
    assert s.target == "few" and s.diffusion["n_steps"] == 50
    assert s.diffusion["prediction"] == "epsilon"  # a partial diffusion keeps seed 002's


def test_the_typed_choices_are_the_methods_own():
    from latentdiff.classification.ldmlr import TARGETS
    from latentdiff.classification.methods import GENERATORS
    from latentdiff.settings import LDMLR_GENERATORS, LDMLR_TARGETS

    assert LDMLR_TARGETS == TARGETS and LDMLR_GENERATORS == GENERATORS


def test_regression_config_is_unchanged_and_old_files_still_read():
    cfg = BenchConfig(data={"dataset": "diamonds"}, methods=("vanilla",))
    d = cfg.to_dict()
    assert d["task"] == "regression" and d["classification"] is None
    old = {k: v for k, v in d.items() if k not in ("task", "classification")}  # format 3, before
    assert BenchConfig.from_dict(old) == cfg


@pytest.mark.parametrize(
    "kw, says",
    [
        ({"task": "classification", "methods": ("latentdiff",)}, "is a regression method"),
        ({"task": "classification", "methods": ("ce",), "train": {}}, "train is set"),
        (
            {"task": "classification", "methods": ("ce",), "table_metrics": ("mae",)},
            "not a classification metric",
        ),  # fmt: skip
        ({"methods": ("ldmlr",)}, "is a classification method"),
        ({"methods": ("vanilla",), "classification": {}}, "classification is set"),
        ({"methods": ("vanilla",), "table_metrics": ("accuracy",)}, "classification metrics"),
    ],
)
def test_the_tasks_refuse_each_others_parts(kw, says):
    with pytest.raises(SettingError, match=says):
        BenchConfig.from_dict(kw)


@pytest.mark.parametrize(
    "kw, says",
    [
        ({"dataset": "csv", "data": "t.csv"}, "needs data"),
        ({"dataset": "digits-lt", "data": "x"}, "bundled digits"),
        ({"dataset": "digits-lt", "target": "y"}, "has its own labels"),
        ({"dataset": "digits-lt", "encoder": "cnn"}, "encoder = 'cnn' is not allowed"),
        ({"imbalance_factor": 0.5}, "imbalance_factor = 0.5"),
        ({"ldmlr": {"target": "rare"}}, "ldmlr.target = 'rare'"),
        ({"ldmlr": {"ratio": 0}}, "ldmlr.ratio = 0"),
    ],
)
def test_classification_settings_are_checked(kw, says):
    with pytest.raises(SettingError, match=says):
        ClassificationConfig.from_dict(kw)
