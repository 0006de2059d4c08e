"""What checkpointing costs a diffusion fit: seconds per checkpoint and its size on disk.

    python scripts/checkpoint_cost.py [--m 64] [--steps 60] [--every 10]

Trains the default denoiser (Table 6 sizes) on random features of dimension m, checkpointing
every ``every`` steps, and prints the median and maximum time of one checkpoint write (atomic,
fsynced), the file size and the mean time of one optimiser step for comparison.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import latentdiff.generators.base as G
from latentdiff.generators import FeatureDiffusion
from latentdiff.settings import DiffusionConfig


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=64)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--every", type=int, default=10)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2000, a.m)).astype(np.float32)
    c = rng.integers(0, 5, 2000).astype(float)
    saves: list[float] = []
    real = G.save_state

    def timed(*args, **kwargs):
        t = time.perf_counter()
        real(*args, **kwargs)
        saves.append(time.perf_counter() - t)

    G.save_state = timed
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "diffusion.safetensors"
        cfg = DiffusionConfig(n_steps=a.steps)
        t0 = time.perf_counter()
        FeatureDiffusion(cfg, progress=False, checkpoint=path, checkpoint_every=a.every).fit(Z, c)
        total = time.perf_counter() - t0
        size = path.stat().st_size
    step = (total - sum(saves)) / a.steps
    print(f"m={a.m}: {len(saves)} checkpoints of {size / 2**20:.1f} MiB, "
          f"median {np.median(saves) * 1e3:.0f} ms, max {max(saves) * 1e3:.0f} ms each; "
          f"one optimiser step {step * 1e3:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
