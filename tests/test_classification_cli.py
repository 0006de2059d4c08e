"""``latentdiff bench --task classification``: a run directory from a class table, refusals."""

import json

import numpy as np
import pandas as pd

from latentdiff.cli import main


def _table(path, n=(80, 40, 35)):
    rng = np.random.default_rng(0)
    lab = np.repeat(["ant", "bee", "cow"], n)
    x = rng.normal(size=(lab.size, 3)) + np.repeat(np.arange(3), n)[:, None]
    df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(kind=lab)
    df.to_csv(path, index=False)


def test_bench_classification_on_a_table(tmp_path, capsys):
    _table(tmp_path / "t.csv")
    out = tmp_path / "run"
    rc = main(["bench", "--task", "classification", "--data", str(tmp_path / "t.csv"),
               "--target", "kind", "--methods", "ce,label-shift", "--seeds", "0",
               "--out", str(out), "--no-progress"])  # fmt: skip
    assert rc == 0
    rows = json.loads((out / "records.json").read_text())
    assert {r["method"] for r in rows} == {"ce", "label-shift"}
    assert {r["metric"] for r in rows} == {"accuracy", "macro_f1"}
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"]["classes"] == ["ant", "bee", "cow"]
    assert config["dataset"]["train_counts"] == [50, 10, 5]  # 20 test + 10 val held per class
    assert "label-shift" in capsys.readouterr().out
    rc = main(["bench", "--task", "classification", "--data", str(tmp_path / "t.csv"),
               "--target", "kind", "--seeds", "0", "--out", str(out)])  # fmt: skip
    assert rc == 2 and "already holds a run" in capsys.readouterr().err


def test_bench_classification_refusals(tmp_path, capsys):
    _table(tmp_path / "t.csv", n=(80, 40, 1))
    rc = main(["bench", "--task", "classification", "--data", str(tmp_path / "t.csv"),
               "--target", "kind", "--seeds", "0", "--out", str(tmp_path / "r")])  # fmt: skip
    assert rc == 2 and "'cow' (1 row)" in capsys.readouterr().err
    rc = main(["bench", "--task", "classification", "--dataset", "digits-lt", "--methods",
               "ce,focal", "--seeds", "0", "--out", str(tmp_path / "r2")])  # fmt: skip
    assert rc == 2 and "unknown classification method" in capsys.readouterr().err
