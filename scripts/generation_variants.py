"""Where generation at 2048-d loses against its roofline: the seed-000-sized denoiser (1024 x 4,
13.2 M parameters) sampled at one batch size in several ways, each beside the matmul rate
measured right before it (best of ``--repeats`` alternating rounds, so that the other processes
of a shared machine hurt every variant alike).

Variants (seed 000's DDPM sampler over all T steps): ``sample`` (``FeatureDiffusion.sample``
as the sampler calls it: the diffusers DDPM scheduler's ``step``, noise from a CPU generator),
``sample+inference_mode`` (the same inside an outer ``torch.inference_mode``; ``sample`` now
uses it itself), ``network`` (T denoiser forward passes alone, ``inference_mode``),
``network, 2 threads`` (the same on two threads, against the 2-thread matmul rate).

    python scripts/generation_variants.py --batch 256 \
        --out docs/results/issue-11/speed/variants.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from latentdiff.flops import size_for_parameters
from latentdiff.generators.diffusion import FeatureDiffusion
from latentdiff.settings import DiffusionConfig
from latentdiff.speed.measure import matmul_rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--timesteps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out")
    a = ap.parse_args()
    size = size_for_parameters(2048, 12.9e6)
    cfg = DiffusionConfig(hidden_dim=size.hidden_dim, n_blocks=size.n_blocks,
                          embed_dim=size.embed_dim, timesteps=a.timesteps, n_steps=1,
                          batch_size=64, early_stopping=False, scheduler="ddpm",
                          sampling_steps=None)  # seed 000's sampler: T passes  # fmt: skip
    rng = np.random.default_rng(0)
    model = FeatureDiffusion(cfg, random_state=0, progress=False).fit(
        rng.normal(size=(256, 2048)).astype(np.float32), rng.uniform(size=256)
    )
    c = rng.uniform(size=a.batch)
    net, z, y = model.sampling_network_, torch.randn(a.batch, 2048), torch.zeros(a.batch)

    def network():
        with torch.inference_mode():
            for t in range(a.timesteps):
                net(z, y, torch.full((a.batch,), t + 1))

    def sample_inference_mode():
        with torch.inference_mode():
            model.sample(c, batch_size=a.batch, random_state=0)

    variants = {
        "sample": (lambda: model.sample(c, batch_size=a.batch, random_state=0), 1),
        "sample+inference_mode": (sample_inference_mode, 1),
        "network": (network, 1),
        "network, 2 threads": (network, 2),
    }
    flops = a.batch * size.generation_flops(a.timesteps)
    best: dict[str, dict] = {}
    threads0 = torch.get_num_threads()
    for _ in range(a.repeats):
        for name, (fn, threads) in variants.items():
            torch.set_num_threads(threads)
            rate = matmul_rate((1024,), repeats=3)["gflops"]
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            frac = flops / dt / (rate * 1e9)
            if name not in best or frac > best[name]["fraction_of_roofline"]:
                best[name] = {"threads": threads, "seconds": dt, "matmul_gflops": rate,
                              "samples_per_s": a.batch / dt,
                              "fraction_of_roofline": frac}  # fmt: skip
            torch.set_num_threads(threads0)
    out = {"denoiser": {"hidden_dim": size.hidden_dim, "n_blocks": size.n_blocks,
                        "embed_dim": size.embed_dim, "parameters": size.parameters()},
           "batch": a.batch, "timesteps": a.timesteps, "repeats": a.repeats,
           "variants": best}  # fmt: skip
    text = json.dumps(out, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
