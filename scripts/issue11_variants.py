"""Diffusion settings side by side on one data set (issue 11, point 1): for each seed, the
vanilla network is trained once (kept in CHECKPOINTS), then LatentDiff runs with each of the
given DiffusionConfig overrides on it; prints the stage seconds, the generator's steps and the
test error ratio to vanilla per seed, then mean ± std over seeds.

    python scripts/issue11_variants.py DATASET DATA_KWARGS_JSON ENCODER|- SEEDS_JSON \
        CONFIGS_JSON METRIC [CHECKPOINTS]

e.g. (docs/results/issue-11/lr.md):

    python scripts/issue11_variants.py diamonds '{}' - '[0,1,2]' \
        '[{}, {"hidden_dim": 256}, {"lr": 0.002}]' mae
    python scripts/issue11_variants.py california-housing \
        '{"data": "../shared/data/california-housing/california_housing.csv"}' - '[0,1,2]' \
        '[{"lr": 0.002}, {}]' mse

(made while the default learning rate was 1e-3: ``{}`` is lr 1e-3 there).
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from latentdiff.data.registry import load_dataset
from latentdiff.encoders import DEFAULT_ENCODER, make_encoder
from latentdiff.metrics import shot_metrics
from latentdiff.pipeline import fit_latentdiff, fit_vanilla
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import PRESETS, HeadConfig


def main(argv: list[str]) -> None:
    name, kw, enc, seeds, cfgs, metric = argv[:6]
    kw, seeds, cfgs = json.loads(kw), json.loads(seeds), json.loads(cfgs)
    where = Path(argv[6] if len(argv) > 6 else "bench-out/issue11-variants")
    where.mkdir(parents=True, exist_ok=True)
    ds = load_dataset(name, **kw)
    res: dict[int, list] = {}
    for seed in seeds:
        encoder = make_encoder(enc if enc != "-" else DEFAULT_ENCODER[ds.modality])
        train = PRESETS.get(name, PRESETS["csv"]).train
        net = fit_vanilla(ds, encoder, train, seed, progress=False,
                          checkpoint=where / f"net-{name}-{enc}-{seed}.safetensors")  # fmt: skip
        reg = ds.regions.of(ds.test.y)
        base = shot_metrics(ds.test.y, net.predictions("test"), reg)
        print("seed", seed, "vanilla", round(net.seconds, 1), "s",
              {r: round(base[r][metric], 4) for r in ("all", "few")}, flush=True)  # fmt: skip
        for i, c in enumerate(cfgs):
            t = time.perf_counter()
            fit = fit_latentdiff(net, LatentDiffSampler(diffusion=c, random_state=seed),
                                 HeadConfig(), seed, progress=False)  # fmt: skip
            m = shot_metrics(ds.test.y, fit.predict("test"), reg)
            rr = {r: m[r][metric] / base[r][metric] for r in ("all", "few")}
            res.setdefault(i, []).append(rr)
            print(" ", c, "steps", fit.sampler.generator_.n_steps_,
                  {k: round(v, 1) for k, v in fit.seconds.items()}, "ratio",
                  {k: round(v, 4) for k, v in rr.items()},
                  f"({time.perf_counter() - t:.0f} s)", flush=True)  # fmt: skip
    for i, c in enumerate(cfgs):
        a = np.array([[r["all"], r["few"]] for r in res[i]])
        (am, fm), (asd, fsd) = a.mean(axis=0), a.std(axis=0)
        print("SUMMARY", c, f"all {am:.4f}±{asd:.4f} few {fm:.4f}±{fsd:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
