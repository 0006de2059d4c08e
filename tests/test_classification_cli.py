"""``latentdiff bench --task classification``: the regression run directory (config.json,
results.json, runs.json, resume, report), and bad input refused in one line before any work."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from latentdiff.cli import main

#: a fast classification run on scikit-learn's digits: 2 stage-1 epochs, a tiny diffusion model
BASE = ["--task", "classification", "--dataset", "digits-lt", "--epochs", "2", "--no-progress"]
FAST = [*BASE, "--ldmlr-option", "diffusion.n_steps=20", "--ldmlr-option", "epochs=1"]


def _table(path, n=(80, 40, 35), labels=("ant", "bee", "cow")):
    rng = np.random.default_rng(0)
    lab = np.repeat(list(labels), n)
    x = rng.normal(size=(lab.size, 3)) + np.repeat(np.arange(len(n)), n)[:, None]
    df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(kind=lab)
    df.to_csv(path, index=False)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("latentdiff: error: "), err
    return err


def test_bench_classification_on_a_table(tmp_path, capsys):
    _table(tmp_path / "t.csv")
    out = tmp_path / "run"
    rc = main(["bench", "--task", "classification", "--data", str(tmp_path / "t.csv"),
               "--target", "kind", "--methods", "ce,label-shift", "--seeds", "0",
               "--epochs", "3", "--out", str(out), "--no-progress"])  # fmt: skip
    assert rc == 0
    rows = json.loads((out / "results.json").read_text())
    assert {r["method"] for r in rows} == {"ce", "label-shift"}
    assert {r["metric"] for r in rows} == {"accuracy", "macro_f1"}
    assert set(rows[0]) == {"dataset", "method", "seed", "region", "metric", "value"}
    config = json.loads((out / "config.json").read_text())
    summary = config["dataset_summary"]
    assert summary["classes"] == ["ant", "bee", "cow"]
    assert summary["train_counts"] == [50, 10, 5]  # 20 test + 10 val held per class
    bench = config["bench"]
    assert bench["task"] == "classification" and bench["classification"]["dataset"] == "csv"
    assert bench["classification"]["ldmlr"] is None  # ce and label-shift use no LDMLR setting
    runs = json.loads((out / "runs.json").read_text())
    assert [(r["method"], r["seed"]) for r in runs] == [("ce", 0), ("label-shift", 0)]
    # one shared stage 1: both pairs report the same network, its seconds are ce's
    assert runs[0]["stage1"] == runs[1]["stage1"] and runs[0]["seconds"] > 0
    assert "label-shift vs ce" in capsys.readouterr().out
    rc = main(["bench", "--task", "classification", "--data", str(tmp_path / "t.csv"),
               "--target", "kind", "--seeds", "0", "--out", str(out)])  # fmt: skip
    assert rc == 2 and "already holds a run" in _error(capsys)


def test_resume_runs_only_the_missing_pairs_and_gives_identical_records(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["bench", *FAST, "--methods", "ce,ldmlr,label-shift", "--seeds", "0,1",
               "--out", str(out)])  # fmt: skip
    assert rc == 0
    full = json.loads((out / "results.json").read_text())
    runs = json.loads((out / "runs.json").read_text())
    assert {r["method"] for r in runs if "ldmlr" in r} == {"ldmlr"}
    # as if killed after seed 0 and seed 1's ce: seed 1's ldmlr and label-shift are missing
    kept = [r for r in runs if r["seed"] == 0 or r["method"] == "ce"]
    (out / "runs.json").write_text(json.dumps(kept))
    kept_records = [r for r in full if r["seed"] == 0 or r["method"] == "ce"]
    (out / "results.json").write_text(json.dumps(kept_records))
    capsys.readouterr()
    assert main(["bench", "--resume", str(out), "--no-progress"]) == 0
    assert json.loads((out / "results.json").read_text()) == full
    resumed = json.loads((out / "runs.json").read_text())
    assert [(r["method"], r["seed"]) for r in resumed] == [(r["method"], r["seed"]) for r in runs]
    ce1 = [r for r in resumed if (r["method"], r["seed"]) == ("ce", 1)]
    assert ce1 == [r for r in kept if (r["method"], r["seed"]) == ("ce", 1)]  # kept, not rerun
    # the same with the task named; an option that changes the configuration is refused
    assert main(["bench", "--task", "classification", "--resume", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["bench", "--resume", str(out), "--seeds", "3"]) == 2
    assert "drop --seeds" in _error(capsys)
    # report: paired differences against ce, accuracy higher is better
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    doc = capsys.readouterr().out
    assert "Long-tailed classification" in doc and "ACCURACY (higher is better)" in doc
    assert "| ldmlr − ce, paired |" in doc and "/2 seeds better" in doc
    assert main(["report", "--grid", str(out)]) == 2
    assert "a classification run; report it as DIR" in _error(capsys)
    assert main(["report", str(out), "--html"]) == 0
    page = (out / "index.html").read_text()
    assert "ldmlr vs ce" in page and (out / "plots" / "labels.png").is_file()


def test_overwrite_replaces_a_classification_run(tmp_path):
    out = tmp_path / "run"
    assert main(["bench", *BASE, "--methods", "ce", "--seeds", "0", "--out", str(out)]) == 0
    assert main(["bench", *BASE, "--methods", "ce,cb", "--seeds", "0", "--out", str(out),
                 "--overwrite"]) == 0  # fmt: skip
    rows = json.loads((out / "results.json").read_text())
    assert {r["method"] for r in rows} == {"ce", "cb"}


@pytest.mark.parametrize(
    "argv, says",
    [
        # a class with one sample: named with its count
        (["--data", "{one}", "--target", "kind"], "too few in class 'cow' (1 row)"),
        # a single class
        (["--data", "{single}", "--target", "kind"], "at least 2 classes"),
        # a continuous target in a classification run
        (["--data", "{continuous}", "--target", "y"], "not a whole number"),
        # an unknown method; a regression method
        (["--methods", "ce,nonsense"], "unknown classification method"),
        (["--methods", "ce,ce-ft+ldmlr+cb"], "ce-ft+ldmlr+cb"),
        (["--methods", "ce,latentdiff"], "'latentdiff' is a regression method"),
        # regression options, named
        (["--n-bins", "5"], "--n-bins is a regression option"),
        (["--no-gate"], "--no-gate is a regression option"),
        (["--analysis-rows", "10"], "--analysis-rows is a regression option"),
        (["--pogdiff-option", "a3=2"], "--pogdiff-option is a regression option"),
        (["--method-option", "lds.kernel=gaussian"], "--method-option is a regression option"),
        (["--grid", "table1"], "--grid names a regression grid"),
        (["--executor", "ray"], "--executor ray is not available for --task classification"),
        (["--device", "cuda"], "runs on the CPU"),
        # settings checked by name
        (["--ldmlr-option", "target=rare"], "--ldmlr-option: classification.ldmlr.target"),
        (["--ldmlr-option", "gamma=0.1", "--methods", "ce"], "none of the methods ce uses it"),
        (["--timesteps", "0"], "--timesteps: classification.ldmlr.diffusion.timesteps = 0"),
        (["--dataset", "mnist-lt"], "'mnist-lt' needs data"),
        (["--data", "{folder}"], "is a folder: --dataset mnist-lt reads"),
        (["--data", "{one}"], "'csv' needs data (a table) and target"),
        (["--imbalance-factor", "0.5"], "--imbalance-factor: classification.imbalance_factor"),
    ],
)
def test_classification_refusals(tmp_path, capsys, argv, says):
    _table(tmp_path / "one.csv", n=(80, 40, 1))
    _table(tmp_path / "single.csv", n=(80,), labels=("ant",))
    pd.DataFrame({"a": np.arange(100.0), "y": np.linspace(0, 1, 100)}).to_csv(
        tmp_path / "continuous.csv", index=False
    )
    files = {k: str(tmp_path / f"{k}.csv") for k in ("one", "single", "continuous")}
    files["folder"] = str(tmp_path)
    argv = [a.format(**files) for a in argv]
    base = ["bench", "--task", "classification", "--seeds", "0", "--no-progress"]
    out = tmp_path / "r"
    assert main([*base, *argv, "--out", str(out)]) == 2
    assert says in _error(capsys)
    assert not (out / "results.json").exists()


@pytest.mark.parametrize(
    "argv, says",
    [
        # a string target in a regression run: the classification task suggested
        (["--data", "{table}", "--target", "kind"], "--task classification"),
        # a classification method, option or data set in a regression run
        (["--methods", "vanilla,ldmlr"], "'ldmlr' is a classification method"),
        (["--methods", "label-shift+ldmlr"], "is a classification method"),
        (["--imbalance-factor", "10"], "--imbalance-factor is a classification option"),
        (["--ldmlr-option", "target=few"], "--ldmlr-option is a classification option"),
        (["--dataset", "digits-lt"], "--dataset digits-lt is a classification data set"),
    ],
)
def test_regression_refuses_classification_input(tmp_path, capsys, argv, says):
    _table(tmp_path / "t.csv")
    argv = [a.format(table=str(tmp_path / "t.csv")) for a in argv]
    out = tmp_path / "r"
    assert main(["bench", "--seeds", "0", "--no-progress", *argv, "--out", str(out)]) == 2
    assert says in _error(capsys)
    assert not (out / "results.json").exists()


def test_resume_of_a_copied_run_checks_the_data(tmp_path, capsys):
    """A classification run resumed on other data (its fingerprint changed) is refused."""
    out = tmp_path / "run"
    assert main(["bench", *BASE, "--methods", "ce", "--seeds", "0", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    config["data_fingerprint"] = "0" * 64
    (out / "config.json").write_text(json.dumps(config))
    shutil.rmtree(out / "plots")
    capsys.readouterr()
    assert main(["bench", "--resume", str(out)]) == 2
    assert "the data differ" in _error(capsys)


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_records_of_an_uninterrupted_one(tmp_path):
    """SIGKILL once seed 0 is recorded, then --resume: the records equal a run never stopped."""
    import os
    import signal
    import subprocess
    import sys
    import time

    args = [*FAST, "--methods", "ce,ldmlr,label-shift+ldmlr", "--seeds", "0,1,2"]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["bench", *args, "--out", str(whole)]) == 0
    cmd = [sys.executable, "-m", "latentdiff.cli", "bench", *args, "--out", str(cut)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    deadline = time.monotonic() + 300
    while not (cut / "runs.json").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = {(r["method"], r["seed"]) for r in json.loads((cut / "runs.json").read_text())}
    assert len(done) < 9  # stopped before the end
    assert main(["bench", "--resume", str(cut), "--no-progress"]) == 0
    assert (cut / "results.json").read_text() == (whole / "results.json").read_text()
