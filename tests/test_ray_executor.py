"""``latentdiff bench --executor ray`` (issue 11, point 6): the (method, seed) pairs as Ray tasks on
a local 2-worker cluster write the same run directory as the local executor (all but seconds),
a run stopped half-way (Ctrl-C in the driver) continues with ``resume``, and a clear error comes
when ray is not installed. One Ray cluster for the module (it takes ~10 s to start here)."""

import json
import sys

import pytest
import torch
from conftest import FAST_DIFFUSION

from latentdiff import bench
from latentdiff.cli import main
from latentdiff.io import load_state
from latentdiff.ray_executor import plan
from latentdiff.settings import BenchConfig, HeadConfig, SamplerConfig, TrainConfig

CFG = BenchConfig(
    methods=("vanilla", "latentdiff", "auto"),  # auto: runs after, reusing the two others
    seeds=(0, 1),
    encoder="mlp",
    encoder_options={"hidden_dims": [16]},
    train=TrainConfig(epochs=3, batch_size=64, patience=None),
    sampler=SamplerConfig(n_bins=6, ratio=0.3, diffusion={**FAST_DIFFUSION, "n_steps": 20}),
    head=HeadConfig(epochs=3, batch_size=64, patience=None),
    method_options={"auto": {"candidates": ["vanilla", "latentdiff"]}},
    progress=False,
)


#: what a resumed run (local or Ray) adds to the entry of a pair whose network or generator it
#: took from the interrupted run's checkpoints
RESUME_MARKS = ("network_loaded_from_checkpoint", "generator_resumed_from_step")


def _without_seconds(x, drop=()):
    if isinstance(x, dict):
        return {k: _without_seconds(v, drop) for k, v in x.items()
                if "seconds" not in k and k not in drop}  # fmt: skip
    if isinstance(x, list):
        return [_without_seconds(v, drop) for v in x]
    return x


def _files(run, drop=()) -> dict:
    """The run's JSON files without seconds (and ``drop``), the run's own path written RUN."""
    return {f: _without_seconds(json.loads((run / f).read_text().replace(str(run), "RUN")), drop)
            for f in ("config.json", "results.json", "runs.json")}  # fmt: skip


def _networks(run) -> dict:
    """Every checkpoint's tensors and metadata (the metadata without the training seconds)."""
    out = {}
    for path in sorted((run / "checkpoints").rglob("*.safetensors")):
        state, meta = load_state(path, None)
        out[str(path.relative_to(run))] = {"state": state, "meta": _without_seconds(meta)}
    return out


def _assert_same_run(a, b, drop=()):
    fa, fb = _files(a, drop), _files(b, drop)
    for name in fa:
        assert fa[name] == fb[name], name
    na, nb = _networks(a), _networks(b)
    assert list(na) == list(nb)  # the same checkpoints, generator exports included
    for path in na:
        flat_a, flat_b = _flat(na[path]), _flat(nb[path])
        assert flat_a.keys() == flat_b.keys(), path
        for k, v in flat_a.items():
            same = torch.equal(v, flat_b[k]) if torch.is_tensor(v) else v == flat_b[k]
            assert same, f"{path}: {k}"
    assert not list((b / "checkpoints").glob("seed-*/generator"))  # training state removed


def _flat(state, prefix=""):
    if isinstance(state, dict):
        return {k2: v2 for k, v in state.items() for k2, v2 in _flat(v, f"{prefix}{k}.").items()}
    if isinstance(state, list | tuple):
        return {k2: v2 for i, v in enumerate(state) for k2, v2 in _flat(v, f"{prefix}{i}.").items()}
    return {prefix: state}


def test_the_task_graph_shares_one_network_per_seed_and_runs_auto_last():
    cfg = BenchConfig(
        methods=("latentdiff+lds", "vanilla", "lds", "rrt", "auto", "latentdiff"),
        seeds=(3, 4),
        encoder="mlp",
    )
    p3, p4 = plan(cfg, done={("vanilla", 3), ("auto", 4)})
    lds = cfg_key = p3.needs["lds"]
    assert p3.seed == 3 and p4.seed == 4
    assert p3.needs == {"latentdiff+lds": cfg_key, "lds": lds, "rrt": (), "latentdiff": ()}
    assert p3.networks == {lds: "latentdiff+lds", (): "rrt"}  # vanilla (seed 3) is done
    assert p3.last == ["auto"] and p4.last == []
    assert p4.networks == {lds: "latentdiff+lds", (): "vanilla"}
    assert plan(cfg, {(m, s) for m in cfg.methods for s in cfg.seeds}) == []


def test_missing_ray_is_a_clear_error_before_anything_is_written(tmp_path, tiny_dataset,
                                                                 monkeypatch, capsys):  # fmt: skip
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if not installed
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=r"needs the ray package.*latentdiff\[ray\]"):
        bench.run_bench(CFG, out, dataset=tiny_dataset, executor="ray")
    assert not out.exists()
    csv = tmp_path / "data.csv"
    csv.write_text("x,target\n" + "".join(f"{i},{i % 7}\n" for i in range(60)))
    args = ["bench", "--data", str(csv), "--target", "target", "--out", str(out), "--no-progress"]
    assert main([*args, "--executor", "ray"]) == 2
    err = capsys.readouterr().err
    assert "latentdiff: error: --executor ray needs the ray package" in err
    assert "Traceback" not in err and not out.exists()
    assert main([*args, "--address", "auto"]) == 2
    assert "--address names a Ray cluster: give it with --executor ray" in capsys.readouterr().err


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The local executor's run of CFG (one torch thread, as every Ray task has)."""
    from conftest import long_tailed_frame

    from latentdiff.data.tabular import dataset_from_frame

    ds = dataset_from_frame(long_tailed_frame(), "target", name="tiny", eval_n_bins=10, cap=10)
    out = tmp_path_factory.mktemp("local") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        bench.run_bench(CFG, out, dataset=ds)
    finally:
        torch.set_num_threads(threads)
    return ds, out


@pytest.mark.slow
def test_ray_run_equals_the_local_run(ray_cluster, local_run, tmp_path):
    ds, ref = local_run
    out = tmp_path / "ray"
    records = bench.run_bench(CFG, out, dataset=ds, executor="ray")
    assert records == json.loads((out / "results.json").read_text())
    _assert_same_run(ref, out)
    runs = json.loads((out / "runs.json").read_text())
    assert [(r["method"], r["seed"]) for r in runs] == [
        (m, s) for s in CFG.seeds for m in CFG.methods
    ]  # the local executor's order, whatever order the tasks finished in
    assert not any("network_loaded_from_checkpoint" in r for r in runs)
    assert all(r["auto"]["chosen"] in ("vanilla", "latentdiff") for r in runs if "auto" in r)
    md = (out / "results.md").read_text()
    assert "| latentdiff |" in md and (out / "index.html").is_file()


@pytest.mark.slow
def test_a_ray_run_stopped_half_way_resumes_to_the_same_results(
    ray_cluster, local_run, tmp_path, monkeypatch
):
    ds, ref = local_run
    out = tmp_path / "ray"
    real = bench.record_outcome
    recorded = []

    def record_then_stop(*args, **kwargs):
        real(*args, **kwargs)
        recorded.append(args[:2])
        if len(recorded) == 2:
            raise KeyboardInterrupt  # Ctrl-C in the driver after two pairs are recorded

    monkeypatch.setattr(bench, "record_outcome", record_then_stop)
    with pytest.raises(KeyboardInterrupt):
        bench.run_bench(CFG, out, dataset=ds, executor="ray")
    monkeypatch.undo()
    runs = json.loads((out / "runs.json").read_text())
    assert len(runs) == 2 and not (out / "results.md").exists()
    assert {(r["method"], r["seed"]) for r in runs} == set(recorded)
    bench.run_bench(CFG, out, dataset=ds, executor="ray", resume=True)
    _assert_same_run(ref, out, drop=RESUME_MARKS)
    resumed = json.loads((out / "runs.json").read_text())
    # as after a local resume: what used the first session's networks says so
    assert any(r.get("network_loaded_from_checkpoint") for r in resumed)
    # a pair finished before the stop is not run again: its entry is the one first written
    again = {(r["method"], r["seed"]): r for r in json.loads((out / "runs.json").read_text())}
    for r in runs:
        assert again[(r["method"], r["seed"])] == r


@pytest.mark.slow
def test_a_failing_method_is_recorded_and_the_others_run(ray_cluster, tiny_dataset, tmp_path):
    source = tmp_path / "empty-run"  # a run directory without the generator latentdiff asks for
    source.mkdir()
    (source / "config.json").write_text("{}")
    cfg = BenchConfig(
        methods=("latentdiff", "vanilla"),
        seeds=(0,),
        encoder="mlp",
        encoder_options={"hidden_dims": [8]},
        train=TrainConfig(epochs=2, patience=None),
        sampler=SamplerConfig(generator_from=str(source)),
        progress=False,
    )
    local = tmp_path / "local"
    bench.run_bench(cfg, local, dataset=tiny_dataset)
    out = tmp_path / "ray"
    bench.run_bench(cfg, out, dataset=tiny_dataset, executor="ray")
    assert _files(out) == _files(local)
    failed, ok = json.loads((out / "runs.json").read_text())
    assert failed["method"] == "latentdiff" and "has no generator of latentdiff" in failed["error"]
    assert ok["method"] == "vanilla" and "error" not in ok
    assert "## Failed runs" in (out / "results.md").read_text()
    assert {r["method"] for r in json.loads((out / "results.json").read_text())} == {"vanilla"}


@pytest.mark.slow
def test_a_node_that_does_not_see_the_run_directory_stops_the_run(
    ray_cluster, tiny_dataset, tmp_path, monkeypatch
):
    import latentdiff.ray_executor as R

    cfg = BenchConfig(methods=("vanilla",), seeds=(0,), encoder="mlp", progress=False)
    # the driver expects another config.json than the one the tasks find: as on a node whose
    # --out is another folder (no shared filesystem)
    monkeypatch.setattr(R, "_sha", lambda path: "not the file the nodes see")
    with pytest.raises(ValueError, match="does not see the run directory .* same path"):
        bench.run_bench(cfg, tmp_path / "run", dataset=tiny_dataset, executor="ray")
    assert not (tmp_path / "run" / "runs.json").exists()  # nothing recorded


@pytest.mark.slow
def test_the_cli_runs_and_resumes_on_ray(ray_cluster, tmp_path, capsys):
    from conftest import long_tailed_frame

    csv = tmp_path / "data.csv"
    long_tailed_frame(n=300).to_csv(csv, index=False)
    out = tmp_path / "run"
    args = ["--data", str(csv), "--target", "target", "--eval-bins", "10", "--epochs", "2",
            "--methods", "vanilla,sqinv", "--seeds", "0", "--no-progress"]  # fmt: skip
    assert main(["bench", *args, "--out", str(out), "--executor", "ray"]) == 0
    first = capsys.readouterr().out
    assert "| sqinv |" in first
    assert main(["bench", "--resume", str(out), "--no-progress", "--executor", "ray"]) == 0
    assert "| sqinv |" in capsys.readouterr().out  # nothing left to run: the same table
    runs = json.loads((out / "runs.json").read_text())
    assert [r["method"] for r in runs] == ["vanilla", "sqinv"]


@pytest.mark.slow
def test_a_network_that_cannot_be_made_fails_each_of_its_methods_as_locally(
    ray_cluster, tiny_dataset, tmp_path
):
    """A network task's ValueError (here: seed 0's checkpoint is another seed's network) is
    recorded for every method on that network, as each would have raised it locally."""
    import shutil

    cfg = BenchConfig(methods=("vanilla", "rrt"), seeds=(0, 1), encoder="mlp",
                      encoder_options={"hidden_dims": [8]},
                      train=TrainConfig(epochs=2, patience=None),
                      head=HeadConfig(epochs=2, patience=None), progress=False)  # fmt: skip
    first = tmp_path / "first"
    bench.run_bench(cfg, first, dataset=tiny_dataset)
    for name in ("runs.json", "results.json"):  # as if nothing had been recorded yet
        (first / name).write_text("[]")
    ckpt = first / "checkpoints"
    shutil.copy(ckpt / "seed-1" / "network-vanilla.safetensors",
                ckpt / "seed-0" / "network-vanilla.safetensors")  # fmt: skip
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    shutil.copytree(first, local)
    shutil.copytree(first, on_ray)
    bench.run_bench(cfg, local, dataset=tiny_dataset, resume=True)
    bench.run_bench(cfg, on_ray, dataset=tiny_dataset, resume=True, executor="ray")
    assert _files(on_ray, RESUME_MARKS) == _files(local, RESUME_MARKS)
    runs = json.loads((on_ray / "runs.json").read_text())
    assert [("error" in r, r["seed"]) for r in runs] == [(True, 0), (True, 0), (False, 1),
                                                         (False, 1)]  # fmt: skip
    assert all("made from other inputs" in r["error"] for r in runs[:2])


@pytest.mark.slow
def test_an_unexpected_error_is_not_recorded_the_others_go_on_and_resume_reruns_it(
    ray_cluster, tiny_dataset, tmp_path, monkeypatch
):
    import latentdiff.ray_executor as R
    from latentdiff.rundir import IncompleteRun

    real = R._method_task

    def buggy(shared, seed, name, fresh, *finished):  # pickled by value: runs in the workers
        if name == "rrt":
            raise RuntimeError("a bug in rrt")
        return real(shared, seed, name, fresh, *finished)

    monkeypatch.setattr(R, "_method_task", buggy)
    cfg = BenchConfig(methods=("rrt", "vanilla"), seeds=(0,), encoder="mlp",
                      encoder_options={"hidden_dims": [8]},
                      train=TrainConfig(epochs=2, patience=None),
                      head=HeadConfig(epochs=2, patience=None), progress=False)  # fmt: skip
    out = tmp_path / "run"
    with pytest.raises(IncompleteRun, match=r"rrt \(seed 0\): RuntimeError: a bug in rrt"):
        bench.run_bench(cfg, out, dataset=tiny_dataset, executor="ray")
    assert [r["method"] for r in json.loads((out / "runs.json").read_text())] == ["vanilla"]
    monkeypatch.undo()
    bench.run_bench(cfg, out, dataset=tiny_dataset, executor="ray", resume=True)
    runs = json.loads((out / "runs.json").read_text())
    assert [(r["method"], "error" in r) for r in runs] == [("rrt", False), ("vanilla", False)]
