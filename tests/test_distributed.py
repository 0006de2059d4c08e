"""--device and torchrun (docs/scaling.md): CUDA refused before any work where there is none, a
tiny benchmark on a GPU close to the CPU's (skipped without one), and two CPU processes under
torchrun (gloo) close to one process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

# light imports only at the top: the DDP test's spawned processes import this module
from latentdiff.params import SettingError
from latentdiff.settings import BenchConfig, DataConfig

NO_CUDA = not torch.cuda.is_available()
#: the tiny benchmark: stage 1 and a small diffusion model, a few epochs; no gate, so that the
#: head retrains on every synthetic feature and the metrics depend on the diffusion model (with
#: the gate, a model this small and short gets none accepted)
TINY = {
    "methods": ["vanilla", "latentdiff"],
    "seeds": [0],
    "train": {"epochs": 8, "batch_size": 64, "patience": None},
    "sampler": {"n_bins": 6, "ratio": 0.5, "gate": False, "diffusion": {
        "n_steps": 200, "hidden_dim": 64, "n_blocks": 1, "embed_dim": 16, "batch_size": 64}},
    "head": {"epochs": 4},
    "progress": False,
}  # fmt: skip


def _tiny_config(csv: Path, **extra) -> BenchConfig:
    data = DataConfig(dataset="csv", data=str(csv), target="target", eval_bins=10)
    return BenchConfig.from_dict({**TINY, **extra, "data": data.to_dict()})


def run_bench(*args, **kwargs):
    from latentdiff.bench import run_bench

    return run_bench(*args, **kwargs)


def saved_config(out):
    from latentdiff.rundir import saved_config

    return saved_config(out)


def _metrics(out: Path) -> dict:
    """{(method, region, metric): value} of a run directory's results.json."""
    records = json.loads((out / "results.json").read_text())
    return {(r["method"], r["region"], r["metric"]): r["value"] for r in records}


@pytest.fixture
def tiny_csv(tmp_path) -> Path:
    from conftest import long_tailed_frame

    path = tmp_path / "tiny.csv"
    long_tailed_frame(600).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "CPU", "cuda:"])
def test_a_device_name_is_checked_as_a_setting(name):
    with pytest.raises(SettingError, match="device"):
        BenchConfig(device=name)


@pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused_before_any_work(tiny_csv, tmp_path, capsys):
    from latentdiff.cli import main
    from latentdiff.device import resolve_device
    from latentdiff.generators import FeatureDiffusion

    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:1")
    with pytest.raises(ValueError, match="CUDA is not available"):
        FeatureDiffusion(device="cuda")  # the library's entry points refuse it too
    from latentdiff.estimator import LatentDiffRegressor

    with pytest.raises(ValueError, match="CUDA is not available"):
        LatentDiffRegressor(method="vanilla", device="cuda").fit(np.ones((10, 2)), np.arange(10.0))
    with pytest.raises(ValueError, match="CUDA is not available"):
        run_bench(_tiny_config(tiny_csv, device="cuda"), tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing read or written
    args = ["run", "--data", str(tiny_csv), "--target", "target", "--out", str(tmp_path / "o")]
    assert main([*args, "--device", "cuda", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CUDA is not available" in err[0] and "--device cpu" in err[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(NO_CUDA, reason="needs a CUDA GPU")
def test_a_tiny_benchmark_on_cuda_is_close_to_the_cpu(tiny_csv, tmp_path):
    """Every stage on the GPU (network, diffusion, gate, head): not bit-identical to the CPU
    (other kernels, other reduction orders), so the metrics are compared within 10 % relative
    (a run on another seed moves them by more than that on this tiny set)."""
    run_bench(_tiny_config(tiny_csv), tmp_path / "cpu")
    run_bench(_tiny_config(tiny_csv, device="cuda"), tmp_path / "cuda")
    assert saved_config(tmp_path / "cuda").device == "cuda"
    cpu, gpu = _metrics(tmp_path / "cpu"), _metrics(tmp_path / "cuda")
    assert cpu.keys() == gpu.keys()
    for key in [k for k in cpu if k[1] == "all" and k[2] in ("mae", "mse")]:
        assert gpu[key] == pytest.approx(cpu[key], rel=0.10), key
    runs = json.loads((tmp_path / "cuda" / "runs.json").read_text())
    assert all("error" not in r for r in runs)
    # the gate (off in TINY, so that the head sees every synthetic feature) on the GPU
    from latentdiff.augment import QualityGate

    rng = np.random.default_rng(0)
    Z, bins = rng.normal(size=(300, 8)), rng.integers(0, 3, 300)
    cpu_gate, gpu_gate = QualityGate(), QualityGate(device="cuda")
    cpu_gate.fit(Z, bins, 3), gpu_gate.fit(Z, bins, 3)
    Zs = rng.normal(size=(100, 8))
    np.testing.assert_allclose(
        gpu_gate.distances(Zs, bins[:100]), cpu_gate.distances(Zs, bins[:100]), rtol=1e-9
    )


@pytest.mark.slow
def test_two_processes_under_torchrun_are_close_to_one(tiny_csv, tmp_path):
    """``torchrun --nproc-per-node 2 -m latentdiff.cli run`` (gloo): stage 1 and the diffusion
    model train as one DDP job with DistributedSampler shards; only rank 0 writes the run
    directory. The global batch equals one process's, but its rows differ (another shuffle), so
    the result is another optimisation path, not the same numbers: all-region MAE and MSE
    within 15 % relative of one process, about what another seed's batch order moves them on
    this 600-row set (the second check measures that spread and requires the 2-process gap to
    be of its size)."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
           "2", "-m", "latentdiff.cli", "run", "--data", str(tiny_csv), "--target", "target",
           "--out", str(out), "--epochs", "8", "--batch-size", "64", "--n-bins", "6",
           "--ratio", "0.5", "--no-gate", "--no-progress", *_diffusion_flags()]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("run directory:") == 1  # rank 0 alone reports
    config = saved_config(out)
    one = tmp_path / "one"
    run_bench(config, one)
    ddp, single = _metrics(out), _metrics(one)
    assert ddp.keys() == single.keys()
    runs = json.loads((out / "runs.json").read_text())
    assert all("error" not in r for r in runs)
    # not bit-identical: the two processes saw other batches
    assert ddp[("vanilla", "all", "mae")] != single[("vanilla", "all", "mae")]
    for key in [k for k in single if k[1] == "all" and k[2] in ("mae", "mse")]:
        assert ddp[key] == pytest.approx(single[key], rel=0.15), key
    spread = run_bench(config.replace(seeds=(1,)), tmp_path / "seed1")
    other = {(r["method"], r["region"], r["metric"]): r["value"] for r in spread}
    key = ("vanilla", "all", "mae")
    gap, seed_gap = abs(ddp[key] - single[key]), abs(other[key] - single[key])
    assert gap <= max(3 * seed_gap, 0.05 * single[key]), (gap, seed_gap)


def _diffusion_flags() -> list[str]:
    d = TINY["sampler"]["diffusion"]
    flags = []
    for k, v in d.items():
        flags += ["--diffusion-option", f"{k}={v}"]
    return flags


# --- one DDP step is one step on the global batch ------------------------------------------------
N_ROWS, BATCH, EPOCHS = 96, 32, 3


def _tiny_fit(order=None):
    """fit_model on a fixed 96-row regression with a dropout-free MLP: val predictions and best
    epoch. ``order(epoch)``: the rows of each epoch (the single process's permutation if None)."""
    from torch import nn
    from torch.utils.data import TensorDataset

    from latentdiff import training
    from latentdiff.settings import TrainConfig

    g = torch.Generator().manual_seed(0)
    X, Xv = torch.randn(N_ROWS, 4, generator=g), torch.randn(40, 4, generator=g)
    w = torch.tensor([1.0, -2.0, 0.5, 0.0])
    y, yv = (X @ w).numpy(), (Xv @ w).numpy()
    torch.manual_seed(0)
    model = training.RegressionModel(
        nn.Sequential(nn.Linear(4, 8), nn.ReLU()), 8, *training.label_scaler(y)
    )
    if order is not None:
        training._NetworkStage._order = lambda self, epoch, rng: order(epoch)
    cfg = TrainConfig(epochs=EPOCHS, batch_size=BATCH, patience=None, lr=1e-2)
    result = training.fit_model(model, TensorDataset(X), y, TensorDataset(Xv), yv, cfg,
                                random_state=0, progress=False)  # fmt: skip
    return training.predict(model, TensorDataset(Xv)), result.best_epoch


def _ddp_worker(rank: int, init: str, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=2)
    pred, best = _tiny_fit()
    if rank == 0:
        np.save(out, np.append(pred, best))
    dist.barrier()  # both ranks done before either tears gloo down (a CI run once aborted there)
    dist.destroy_process_group()


def test_a_ddp_step_is_the_single_process_step_on_the_union_of_the_shards(tmp_path):
    """Two gloo processes, each ``BATCH / 2`` rows of its DistributedSampler shard per step,
    against one process fed, step for step, the union of the two shards' rows: the same
    optimisation (DDP averages the two half-batch mean gradients: the global batch's mean
    gradient), so the same weights up to float rounding of the all-reduce."""
    from torch.utils.data import DistributedSampler

    out = tmp_path / "ddp.npy"
    init = f"file://{tmp_path / 'rendezvous'}"
    torch.multiprocessing.spawn(_ddp_worker, args=(init, str(out)), nprocs=2, join=True)
    ddp = np.load(out)

    def union(epoch: int) -> np.ndarray:
        shards = []
        for r in range(2):
            s = DistributedSampler(range(N_ROWS), num_replicas=2, rank=r, shuffle=True, seed=0)
            s.set_epoch(epoch)
            shards.append(np.fromiter(iter(s), dtype=np.int64).reshape(-1, BATCH // 2))
        return np.concatenate(shards, axis=1).reshape(-1)  # step k: rank 0's rows, rank 1's

    from latentdiff import training

    keep = training._NetworkStage._order
    try:
        pred, best = _tiny_fit(union)
    finally:
        training._NetworkStage._order = keep
    assert best == ddp[-1]
    np.testing.assert_allclose(pred, ddp[:-1], rtol=1e-5, atol=1e-5)
    alone, _ = _tiny_fit()  # the single process's own batch order: another path
    assert not np.allclose(alone, ddp[:-1], rtol=1e-5, atol=1e-5)


def test_the_gate_distance_on_a_device_is_the_numpy_one():
    """The torch path of the gate's distances (taken on a GPU) against numpy's, on the CPU, in
    both forms of the shrunk Gaussian (fewer rows than dimensions: Woodbury's; more: the
    precision matrix)."""
    from latentdiff.augment import QualityGate, torch_distance
    from latentdiff.shrinkage import ShrunkGaussian

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(50, 6))
    for n in (4, 30):  # n < m = 6 and n >= m
        stats = ShrunkGaussian.fit(rng.normal(size=(n, 6)))
        assert (stats.precision is None) == (n < 6)
        expected = QualityGate.distance(Z, stats)
        np.testing.assert_allclose(torch_distance(Z, stats, "cpu"), expected, rtol=1e-10)


def test_diffusion_batches_under_two_processes_read_each_shard_pass_by_pass(monkeypatch):
    """TrainingParts.batch_rows as rank 0 and rank 1 of 2 see it (the group simulated): 50
    rows, global batch 20, so 10 rows a step per process; the two shards of a pass are
    disjoint and cover the rows, a pass runs on across steps and the next one reshuffles."""
    from latentdiff import distributed
    from latentdiff.generators.base import TrainingParts

    n, seen = 50, {}
    for r in (0, 1):
        monkeypatch.setattr(distributed, "world_size", lambda: 2)
        monkeypatch.setattr(distributed, "rank", lambda r=r: r)
        parts = TrainingParts({}, {}, None, torch.empty(10), torch.Generator(), torch.device("cpu"),
                              None, (), 1)  # fmt: skip
        parts.ddp, parts.shard_seed = {"net": None}, 7
        seen[r] = [parts.batch_rows(n, 20, k).tolist() for k in range(6)]
        assert all(len(b) == 10 for b in seen[r])
    first = {r: sum(seen[r][:2], []) + seen[r][2][:5] for r in (0, 1)}  # a shard: 25 rows
    assert sorted(first[0] + first[1]) == list(range(n))
    second = {r: seen[r][2][5:] + sum(seen[r][3:5], []) for r in (0, 1)}
    assert sorted(second[0] + second[1]) == list(range(n)) and second[0] != first[0]


def test_per_rank_batch_and_shards_cover_the_rows():
    """The batch rule and the shards outside a group: one process takes everything."""
    from latentdiff import distributed

    assert distributed.per_rank_batch(256) == 256
    order = distributed.shard_order(10, seed=0, epoch=0)
    assert sorted(order.tolist()) == list(range(10))
    assert not np.array_equal(order, distributed.shard_order(10, seed=0, epoch=1))
