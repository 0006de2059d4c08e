"""``latentdiff run --resume DIR`` (issue 4): a run killed with SIGKILL in the middle of diffusion
training, then resumed, ends with the same metrics as an uninterrupted run of the same seed; a
run directory is never silently overwritten or resumed with other data or settings."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import long_tailed_frame

from latentdiff.cli import main
from latentdiff.io import load_state

ARGS = ["--target", "target", "--eval-bins", "10", "--epochs", "3", "--n-bins", "5",
        "--diffusion-steps", "60", "--checkpoint-every", "10", "--no-progress"]  # fmt: skip


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "data.csv"
    long_tailed_frame(n=500).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The data file and an uninterrupted run on it."""
    tmp = tmp_path_factory.mktemp("reference")
    path = tmp / "data.csv"
    long_tailed_frame(n=500).to_csv(path, index=False)
    _finish(_cli("run", "--data", path, "--out", tmp / "run", *ARGS))
    return path, tmp / "run"


def _cli(*args, **kw):
    cmd = [sys.executable, "-m", "latentdiff.cli", *map(str, args)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _finish(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_interrupted_in_diffusion_training_then_resumed_gives_the_same_metrics(
    tmp_path, reference, sig
):
    csv, ref = reference
    run = tmp_path / "killed"
    proc = _cli("run", "--data", csv, "--out", run, *ARGS)
    ckpt = run / "checkpoints" / "seed-0" / "generator" / "latentdiff" / "diffusion.safetensors"
    deadline = time.monotonic() + 240
    while not ckpt.exists():  # the first diffusion checkpoint: training is under way
        assert proc.poll() is None, proc.communicate()[1].decode()[-3000:]
        assert time.monotonic() < deadline, "no diffusion checkpoint appeared"
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:  # Ctrl-C: a short message saying how to continue, no traceback
        assert proc.returncode == 130
        assert f"latentdiff run --resume {run}" in err.decode()
        assert "Traceback" not in err.decode()
    step = load_state(ckpt, None)[1]["step"]
    assert 0 < step < 60  # stopped in the middle of diffusion training
    assert not (run / "results.md").exists()
    done = json.loads((run / "runs.json").read_text())
    assert [r["method"] for r in done] == ["vanilla"]  # the completed stage is on record

    _finish(_cli("run", "--resume", run, "--no-progress"))
    a = json.loads((ref / "results.json").read_text())
    b = json.loads((run / "results.json").read_text())
    assert a == b  # every metric of every region, exactly
    runs = {r["method"]: r for r in json.loads((run / "runs.json").read_text())}
    assert runs["latentdiff"]["generator_resumed_from_step"] >= step
    assert runs["latentdiff"]["network_loaded_from_checkpoint"] is True
    ref_runs = {r["method"]: r for r in json.loads((ref / "runs.json").read_text())}
    assert runs["latentdiff"]["per_bin"] == ref_runs["latentdiff"]["per_bin"]
    for method in ("vanilla", "latentdiff"):  # the feature-quality analysis's files too
        name = runs[method]["analysis"]["file"]
        assert (run / name).read_bytes() == (ref / name).read_bytes()
    assert not ckpt.parent.exists()  # generator state is removed once results are recorded
    assert (run / "checkpoints" / "seed-0" / "network-vanilla.safetensors").exists()


def test_run_directory_is_not_overwritten_or_resumed_with_other_settings(tmp_path, csv, capsys):
    out = tmp_path / "run"
    fast = [*ARGS[:-5], "--diffusion-steps", "20", "--no-progress"]
    assert main(["run", "--data", str(csv), "--out", str(out), *fast]) == 0
    results = (out / "results.json").read_text()
    key = json.loads((out / "config.json").read_text())["data_fingerprint"]
    capsys.readouterr()
    # a second run into the same directory is refused, nothing is lost
    assert main(["run", "--data", str(csv), "--out", str(out), *fast]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (out / "results.json").read_text() == results
    # resume takes the saved configuration; other options are refused by name
    assert main(["run", "--resume", str(out), "--epochs", "5"]) == 2
    assert "drop --epochs" in capsys.readouterr().err
    # resuming a finished run recomputes nothing and changes nothing
    assert main(["run", "--resume", str(out), "--no-progress"]) == 0
    assert (out / "results.json").read_text() == results
    capsys.readouterr()
    # the data changed since the run started: refused
    frame = long_tailed_frame(n=500)
    frame.loc[0, "x1"] += 1.0
    frame.to_csv(csv, index=False)
    assert main(["run", "--resume", str(out)]) == 2
    assert "the data differ" in capsys.readouterr().err
    # nothing to resume
    assert main(["run", "--resume", str(tmp_path / "nothing")]) == 2
    assert "no run to resume" in capsys.readouterr().err
    # --overwrite starts again, on the new data
    assert main(["run", "--data", str(csv), "--out", str(out), "--overwrite", *fast]) == 0
    assert json.loads((out / "config.json").read_text())["data_fingerprint"] != key
    assert main(["run", "--resume", str(out), "--no-progress"]) == 0
