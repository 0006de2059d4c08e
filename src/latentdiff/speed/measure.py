"""What the speed report measures on this machine: the float32 matrix-multiply rate, the peak
resident memory of a piece of work, and the training and generation throughput of
:class:`~latentdiff.generators.diffusion.FeatureDiffusion`, each beside its FLOP-count roofline
(:mod:`latentdiff.flops`)."""

from __future__ import annotations

import math
import os
import resource
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..flops import DenoiserSize
from ..generators.diffusion import FeatureDiffusion
from ..settings import DiffusionConfig


# --- the machine ----------------------------------------------------------------------------------
def matmul_rate(sizes=(1024, 2048), repeats: int = 5) -> dict:
    """Best float32 ``torch.mm`` rate of square products (GFLOP/s, 2 n^3 FLOPs each) over
    ``sizes``, on torch's current thread count."""
    out = {"threads": torch.get_num_threads(), "sizes": list(sizes), "repeats": repeats}
    rates = {}
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        torch.mm(a, b)  # warm-up
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t0)
        rates[n] = 2 * n**3 / best / 1e9
    out["gflops_by_size"] = {str(n): round(r, 1) for n, r in rates.items()}
    out["gflops"] = max(rates.values())
    return out


def paired_rate() -> float:
    """A short matmul-rate measurement (GFLOP/s, n = 1024), taken right before and after each
    throughput measurement: on a shared machine the rate available changes from minute to
    minute, and a fraction of the roofline is only meaningful against the rate of its moment."""
    return matmul_rate((1024,), repeats=3)["gflops"]


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far (``getrusage``; kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRSS:
    """Peak resident set size of the process while the ``with`` block runs, sampled every
    ``interval`` seconds by a thread (torch's kernels release the GIL, so it samples during
    them); ``peak`` and ``start`` in bytes."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


# --- the diffusion model --------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One denoiser to measure: feature dimension, sizes, and where the sizes come from."""

    name: str
    size: DenoiserSize
    source: str

    def config(self, **kw) -> DiffusionConfig:
        s = self.size
        # every step timed is an optimiser step (no held-out loss); generation is seed 000's
        # DDPM ancestral sampling over all T steps, as in its Table 5 (the project's default
        # sampler, DPM-Solver++ in 10 steps, makes 5x fewer passes of the same network)
        return DiffusionConfig(
            hidden_dim=s.hidden_dim, n_blocks=s.n_blocks, embed_dim=s.embed_dim,
            early_stopping=False, scheduler="ddpm", sampling_steps=None, **kw,
        )  # fmt: skip


def _data(m: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, m)).astype(np.float32), rng.uniform(0, 1, n)


def _fit_seconds(case: Case, batch: int, steps: int, Z, c) -> float:
    cfg = case.config(batch_size=batch, n_steps=steps, timesteps=50)
    model = FeatureDiffusion(cfg, random_state=0, progress=False)
    t0 = time.perf_counter()
    model.fit(Z, c)
    return time.perf_counter() - t0


def training_rate(case: Case, batch: int, gflops: float, seconds: float = 1.5) -> dict:
    """Training samples/s of ``FeatureDiffusion.fit`` at ``batch``: two fits of 1 and 1 + k
    optimiser steps, the difference over k (what a step costs without the setup); k is chosen
    to take about ``seconds`` at the roofline. Samples are rows of z0 (one per row per step)."""
    flops = case.size.training_flops()
    k = int(min(max(math.ceil(seconds * gflops * 1e9 / (batch * flops)), 2), 100))
    Z, c = _data(case.size.m, 2048)
    _fit_seconds(case, batch, 1, Z, c)  # warm-up: imports, allocator
    before = paired_rate()
    with PeakRSS() as mem:
        t1 = _fit_seconds(case, batch, 1, Z, c)
        tk = _fit_seconds(case, batch, 1 + k, Z, c)
    gflops_now = max(before, paired_rate())
    step = max(tk - t1, 1e-9) / k
    rate = batch / step
    roof = gflops_now * 1e9 / flops
    return {
        "batch": batch,
        "matmul_gflops_at_the_time": gflops_now,
        "steps_timed": k,
        "seconds_per_step": step,
        "samples_per_s": rate,
        "roofline_samples_per_s": roof,
        "fraction_of_roofline": rate / roof,
        "peak_rss_mb": mem.peak / 2**20,
    }


def generation_rate(
    case: Case, batch: int, gflops: float, timesteps: int = 50, seconds: float = 1.5
) -> dict:
    """Generation samples/s of ``FeatureDiffusion.sample`` (ancestral sampling through the
    diffusers scheduler, ``timesteps`` steps) at ``batch``, over whole batches taking about
    ``seconds`` at the roofline; beside it the same number of denoiser forward passes alone
    under ``torch.inference_mode`` (a few passes, scaled to ``timesteps``): what the
    scheduler's update, the noise draws and the copies add is the difference."""
    flops = case.size.generation_flops(timesteps)
    n_batches = int(min(max(math.ceil(seconds * gflops * 1e9 / (batch * flops)), 1), 20))
    Z, c = _data(case.size.m, 512)
    cfg = case.config(batch_size=64, n_steps=1, timesteps=timesteps)
    model = FeatureDiffusion(cfg, random_state=0, progress=False).fit(Z, c)
    cond = np.resize(c, batch * n_batches)
    model.sample(cond[:2], batch_size=2, random_state=1)  # warm-up
    before = paired_rate()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        model.sample(cond, batch_size=batch, random_state=1)
        seconds_all = time.perf_counter() - t0
    net = model.sampling_network_
    z = torch.randn(batch, case.size.m)
    y = torch.zeros(batch)
    passes = min(timesteps, 5)  # every pass costs the same: time a few, scale to T
    with torch.inference_mode():
        t0 = time.perf_counter()
        for t in range(passes):
            net(z, y, torch.full((batch,), t + 1))
        seconds_net = (time.perf_counter() - t0) * timesteps / passes
    gflops_now = max(before, paired_rate())
    rate = batch * n_batches / seconds_all
    roof = gflops_now * 1e9 / flops
    net_rate = batch / seconds_net
    return {
        "batch": batch,
        "matmul_gflops_at_the_time": gflops_now,
        "rows": batch * n_batches,
        "timesteps": timesteps,
        "samples_per_s": rate,
        "roofline_samples_per_s": roof,
        "fraction_of_roofline": rate / roof,
        "network_only_samples_per_s": net_rate,
        "network_only_fraction": net_rate / roof,
        "overhead_ms_per_step": max(seconds_all / n_batches - seconds_net, 0) / timesteps * 1e3,
        "peak_rss_mb": mem.peak / 2**20,
    }
