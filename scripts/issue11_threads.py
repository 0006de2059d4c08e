"""Threads and batch size for diffusion training on this machine (issue 11, point 1): seconds
per optimiser step and per training row of the default (automatic) denoiser, for the feature
dimensions of the tabular MLP (64), MiniLM (128) and BiLSTM (1,024) encoders, with 1 and with
all torch threads, batch sizes 128 to 1,024. Run it on a quiet machine.

    python scripts/issue11_threads.py [--steps 100] > docs/results/issue-11/threads.md
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from latentdiff.generators.diffusion import FeatureDiffusion, denoiser_size
from latentdiff.settings import DiffusionConfig


def step_seconds(m: int, batch: int, threads: int, steps: int) -> float:
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(4096, m)).astype(np.float32)
    c = rng.integers(0, 20, 4096).astype(float)
    cfg = DiffusionConfig(batch_size=batch, n_steps=steps, early_stopping=False)
    FeatureDiffusion(cfg.replace(n_steps=5), progress=False).fit(Z, c)  # warm-up
    t = time.perf_counter()
    FeatureDiffusion(cfg, progress=False).fit(Z, c)
    return (time.perf_counter() - t) / steps


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=100)
    a = p.parse_args()
    cores = os.cpu_count()
    print(f"{cores} cores; torch {torch.__version__}; {a.steps} steps per cell\n")
    print("| m | denoiser (width, blocks) | batch | threads | ms / step | us / row |")
    print("|---|---|---|---|---|---|")
    for m in (64, 128, 1024):
        size = denoiser_size(m, DiffusionConfig())
        for batch in (128, 256, 512, 1024):
            for threads in sorted({1, cores}):
                s = step_seconds(m, batch, threads, a.steps)
                print(
                    f"| {m} | {size} | {batch} | {threads} | {1e3 * s:.2f} | "
                    f"{1e6 * s / batch:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
