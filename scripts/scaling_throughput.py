"""Throughput on this machine behind the estimates of docs/scaling.md.

    OMP_NUM_THREADS=1 python scripts/scaling_throughput.py \
        [--out docs/results/issue-11/scaling/throughput.json] [--only resnet decode gate diffusion]

Measures, each as the median of timed repetitions after a warm-up, with torch's CPU threads as
set (``torch.get_num_threads()`` is recorded):

* the float32 matrix-multiply rate (2048 x 2048 x 2048), GFLOP/s;
* ResNet-50 (this project's, :mod:`latentdiff.encoders.resnet`, 2048-d features and a linear
  head) training steps on 224 x 224 images: forward, L1 loss, backward, Adam step; images/s;
* decoding an image for the network (``latentdiff.encoders.image.load_image``: JPEG decode,
  RGB, bilinear resize to 224 x 224, to a float tensor), images/s on one core: a synthetic
  400 x 400 JPEG (smooth gradients plus noise, quality 90; the face images are not here);
* the quality gate's fit of one bin of 2048-d features (Ledoit-Wolf on the bin and on its 5
  cross-validation folds, the precision matrices), at 4,096 and 8,192 rows: seconds, so that
  a bin's fit takes (seconds per bin) + (seconds per row) x rows;
* the feature diffusion model at m = 2048 with a denoiser of seed 000's size (Table 4c: 12.9 M
  parameters; here hidden_dim 1024, 4 blocks, embed_dim 128): training samples/s (one
  optimiser step per batch, EMA included) and generation samples/s at T = 50 (ancestral DDPM).

Nothing here is a unit test: it is the measurement the estimates are computed from.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch


def _timed(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(n: int = 2048, repeats: int = 3) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    s = _timed(lambda: a @ b, repeats)
    return 2 * n**3 / s / 1e9


def resnet50_train(batch: int, repeats: int) -> dict:
    from latentdiff.encoders.resnet import resnet50

    torch.manual_seed(0)
    net = resnet50()
    head = torch.nn.Linear(2048, 1)
    params = list(net.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(batch, 3, 224, 224)
    y = torch.randn(batch)
    net.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = (head(net(x)).squeeze(-1) - y).abs().mean()
        loss.backward()
        opt.step()

    s = _timed(step, repeats)
    return {"batch": batch, "seconds_per_step": s, "images_per_s": batch / s,
            "parameters": sum(p.numel() for p in net.parameters())}  # fmt: skip


def image_decode(repeats: int = 200) -> dict:
    import tempfile

    from PIL import Image

    from latentdiff.encoders.image import load_image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:400, 0:400] / 400.0
    rgb = np.stack([xx, yy, (xx + yy) / 2], axis=-1) * 200 + rng.normal(0, 12, (400, 400, 3))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "face.jpg"
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path, quality=90)
        size = path.stat().st_size
        t0 = time.perf_counter()
        for _ in range(repeats):
            load_image(path, 224)
        s = (time.perf_counter() - t0) / repeats
    return {"jpeg_bytes": size, "seconds_per_image": s, "images_per_s": 1 / s}


def gate_fit() -> dict:
    """One bin's gate fit at 4,096 and 8,192 rows of 2048-d features: more rows than
    dimensions, the case of IMDB-WIKI-DIR's bins (about 9,600 rows each at K = 20), where
    :mod:`latentdiff.shrinkage` forms and inverts the m x m covariance."""
    from latentdiff.augment import QualityGate

    rng = np.random.default_rng(0)
    out = {}
    for n in (4096, 8192):
        Z = rng.normal(size=(n, 2048))
        gate = QualityGate(0.95)
        t0 = time.perf_counter()
        gate.fit(Z, np.zeros(n, dtype=int), 1)
        out[n] = time.perf_counter() - t0
    per_row = (out[8192] - out[4096]) / 4096
    return {"m": 2048, "seconds_4096_rows": out[4096], "seconds_8192_rows": out[8192],
            "seconds_per_row": per_row, "seconds_per_bin": out[4096] - 4096 * per_row}  # fmt: skip


def diffusion_2048(train_batch: int, gen_batch: int, steps: int) -> dict:
    from latentdiff.generators import FeatureDiffusion
    from latentdiff.settings import DiffusionConfig

    m, n = 2048, 4096
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(n, m)).astype(np.float32)
    c = rng.integers(0, 100, n).astype(np.float64)
    cfg = DiffusionConfig(hidden_dim=1024, n_blocks=4, embed_dim=128, batch_size=train_batch,
                          n_steps=steps, timesteps=50, early_stopping=False)  # fmt: skip
    gen = FeatureDiffusion(cfg, random_state=0, progress=False)
    gen.fit(Z, c)  # warm-up: imports, first allocations
    t0 = time.perf_counter()
    gen.fit(Z, c)
    fit_s = time.perf_counter() - t0
    n_params = gen.n_parameters_
    cs = np.full(gen_batch, 50.0)
    gen_s = _timed(lambda: gen.sample(cs, batch_size=gen_batch, random_state=0), 2)
    return {
        "m": m, "denoiser_parameters": n_params, "train_batch": train_batch,
        "train_steps": steps, "train_seconds": fit_s,
        "train_samples_per_s": train_batch * steps / fit_s,
        "timesteps": 50, "generation_batch": gen_batch, "generation_seconds": gen_s,
        "generation_samples_per_s": gen_batch / gen_s,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/results/issue-11/scaling/throughput.json")
    ap.add_argument("--resnet-batch", type=int, default=8)
    ap.add_argument("--resnet-repeats", type=int, default=3)
    ap.add_argument("--diffusion-train-batch", type=int, default=256)
    ap.add_argument("--diffusion-steps", type=int, default=20)
    ap.add_argument("--generation-batch", type=int, default=1024)
    ap.add_argument("--only", nargs="*", help="measure only these parts (matmul is always)",
                    choices=["resnet", "decode", "gate", "diffusion"])  # fmt: skip
    a = ap.parse_args()
    out = {
        "command": "OMP_NUM_THREADS=1 python scripts/scaling_throughput.py "
        + " ".join(sys.argv[1:]),
        "machine": {"processor": platform.processor() or platform.machine(),
                    "torch": torch.__version__, "threads": torch.get_num_threads(),
                    "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "matmul_gflops": matmul_gflops(),
    }  # fmt: skip
    print(json.dumps(out, indent=1), flush=True)
    parts = {
        "resnet": ("resnet50_train", lambda: resnet50_train(a.resnet_batch, a.resnet_repeats)),
        "decode": ("image_decode", image_decode),
        "gate": ("gate_fit", gate_fit),
        "diffusion": ("diffusion_2048", lambda: diffusion_2048(
            a.diffusion_train_batch, a.generation_batch, a.diffusion_steps)),
    }  # fmt: skip
    for name, (key, measure) in parts.items():
        if a.only is None or name in a.only:
            out[key] = measure()
            print(json.dumps(out[key], indent=1), flush=True)
    out["machine"]["load_average_at_end"] = os.getloadavg()
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
