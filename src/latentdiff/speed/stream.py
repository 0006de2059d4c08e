"""The streaming measurement of the speed report: many synthetic features generated, gated and
written to disk in chunks (:meth:`LatentDiffSampler.generate_to`), then a head retrained on
them read per batch (``training.fit_head`` on a :class:`FeatureFile`), in a process of its own
so that its peak resident set size (``getrusage``'s ``ru_maxrss``) is that of this work alone.

``python -m latentdiff.speed.stream --json OUT [options]`` runs it; :func:`run_stream` starts it
and reads the result. The real features are synthetic: ``n_real`` rows of dimension ``m``, each
a standard normal vector plus its label times a fixed random direction, labels gamma(2, 1).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class _Phase:
    """Wall and CPU seconds (user + system, all threads) of a phase: on a shared machine the
    wall time grows with the other processes, the CPU time much less."""

    def __init__(self, out: dict, name: str) -> None:
        self.out, self.name = out, name

    def __enter__(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def __exit__(self, *exc) -> None:
        self.out["seconds"][self.name] = time.perf_counter() - self.t0
        self.out["cpu_seconds"][self.name] = time.process_time() - self.c0
        self.out["peak_rss_mb_after"][self.name] = _peak_mb()


def _measure(a: argparse.Namespace) -> dict:
    import torch

    from ..samplers import LatentDiffSampler
    from ..settings import HeadConfig
    from ..training import RegressionModel, fit_head

    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    y = rng.gamma(2.0, 1.0, a.n_real)
    direction = rng.normal(size=a.m) / np.sqrt(a.m)
    Z = (rng.normal(size=(a.n_real, a.m)) + y[:, None] * direction * 4).astype(np.float32)
    out = {"peak_rss_mb_after": {"data": _peak_mb()}, "seconds": {}, "cpu_seconds": {}}
    diffusion = dict(hidden_dim=a.hidden_dim, n_blocks=a.n_blocks, embed_dim=a.embed_dim,
                     timesteps=a.timesteps, n_steps=a.diffusion_steps, batch_size=256,
                     early_stopping=False, scheduler="ddpm", sampling_steps=None)  # fmt: skip
    sampler = LatentDiffSampler(
        n_bins=a.n_bins, ratio=a.rows / a.n_real, diffusion=diffusion, random_state=0,
        stream_dir=a.dir, stream_chunk=a.chunk,
    )  # fmt: skip
    with _Phase(out, "sampler_fit"):
        sampler.fit(Z, y)
    with _Phase(out, "generate_gate_write"):
        Zs, ys = sampler.generate()
    out["generated"] = int(sum(r["requested"] for r in sampler.report_))
    out["accepted"] = len(Zs)
    out["file_bytes"] = os.path.getsize(Zs.path)
    try:
        model = RegressionModel(torch.nn.Identity(), a.m, float(y.mean()), float(y.std()))
        head = HeadConfig(epochs=a.head_epochs, patience=None)
        with _Phase(out, "head_from_file"):
            fit_head(model, Z, y, Zs, ys, Z[:1000], y[:1000], head, random_state=0,
                     progress=False)  # fmt: skip
        out["head_rows_read"] = int(a.head_epochs * (len(Zs) + a.n_real))
    finally:
        Zs.remove()
    out["peak_rss_mb"] = _peak_mb()
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m latentdiff.speed.stream", description=__doc__)
    p.add_argument("--json", required=True, help="write the result here")
    p.add_argument("--dir", required=True, help="folder of the synthetic feature file")
    p.add_argument("--rows", type=int, default=1_000_000, help="synthetic features generated")
    p.add_argument("--m", type=int, default=2048, help="feature dimension")
    p.add_argument("--n-real", type=int, default=10_000)
    p.add_argument("--n-bins", type=int, default=4)
    p.add_argument("--chunk", type=int, default=4096)
    p.add_argument("--hidden-dim", type=int, default=64)
    p.add_argument("--n-blocks", type=int, default=1)
    p.add_argument("--embed-dim", type=int, default=16)
    p.add_argument("--timesteps", type=int, default=10)
    p.add_argument("--diffusion-steps", type=int, default=20)
    p.add_argument("--head-epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    return p


#: the settings of the measurement, as the report states them
SETTINGS = ("rows", "m", "n_real", "n_bins", "chunk", "hidden_dim", "n_blocks", "embed_dim",
            "timesteps", "diffusion_steps", "head_epochs", "threads")  # fmt: skip


def run_stream(folder: str | None = None, **settings) -> dict:
    """Run the measurement in a child process (the file in a new folder under ``folder``,
    removed afterwards); returns its settings and results."""
    import torch

    settings.setdefault("threads", torch.get_num_threads())
    args = []
    for k, v in settings.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    base = Path(folder or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="latentdiff-stream-", dir=base))
    try:
        result = work / "result.json"
        cmd = [sys.executable, "-m", "latentdiff.speed.stream", "--json", str(result),
               "--dir", str(work), *args]  # fmt: skip
        t0 = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if run.returncode != 0:
            raise RuntimeError(f"the streaming measurement failed:\n{run.stderr[-2000:]}")
        out = json.loads(result.read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    parsed = _parser().parse_args(["--json", "-", "--dir", "-", *args])
    return {"settings": {k: getattr(parsed, k) for k in SETTINGS}, "wall_seconds": wall, **out}


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    Path(a.json).write_text(json.dumps(_measure(a), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
