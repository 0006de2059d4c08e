"""Issue 12, part 2: per-bin quality of generated features, plain LatentDiff's diffusion model
against PoGDiff's, on the networks of a finished bench run (scripts/issue12-pogdiff.sh).

Per seed: the run's vanilla network is loaded from its checkpoint (not retrained), each
generator is fitted on its training features as the bench fits it (LatentDiffSampler with the
run's sampler settings and the seed), and per generation bin ``N_GEN`` features are drawn at the
bin's label. The Frechet distance ||mu_g - mu_r||^2 + tr(S_g + S_r - 2 (S_g S_r)^(1/2)) is taken
between them and the bin's held-out real features (the test split's rows in that bin), for bins
with at least ``MIN_TEST`` test rows; the distance of the bin's real training features to the
same test features is the reference (what a perfect generator of the training distribution
would score, sampling error included). Regions: the bin's training count, DIR's thresholds
(many > 100, few < 20). Writes per-bin records (JSON) and a summary table (Markdown).

    python scripts/issue12_pogdiff_frechet.py RUN_DIR OUT_PREFIX
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import numpy as np

from latentdiff.analysis.frechet import frechet
from latentdiff.binning import DIR_THRESHOLDS, regions_from_counts
from latentdiff.data.registry import load_dataset
from latentdiff.encoders import make_encoder
from latentdiff.pipeline import fit_vanilla
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import BenchConfig

N_GEN = 1000
MIN_TEST = 5
GENERATORS = ("diffusion", "pogdiff")


def main(run: Path, prefix: Path) -> None:
    bench = BenchConfig.from_dict(json.loads((run / "config.json").read_text())["bench"])
    dataset = load_dataset(bench.data.dataset, **bench.data.given())
    records = []
    for seed in bench.seeds:
        ckpt = run / "checkpoints" / f"seed-{seed}" / "network-vanilla.safetensors"
        encoder = make_encoder(bench.encoder, **bench.encoder_options)
        net = fit_vanilla(dataset, encoder, bench.train, seed, progress=False, checkpoint=ckpt)
        assert net.loaded_from is not None, "the run's network checkpoint did not load"
        Z, y = net.features("train"), dataset.train.y
        Zt, yt = net.features("test"), dataset.test.y
        errors = np.abs(net.predictions("train") - y)
        for gen in GENERATORS:
            s = LatentDiffSampler.from_config(bench.sampler, generator=gen, random_state=seed)
            s.fit(Z, y, sample_errors=errors)
            b_tr, b_te = s.bins_.assign(y), s.bins_.assign(yt)
            counts = np.bincount(b_tr, minlength=s.bins_.n_bins)
            regions = regions_from_counts(counts, DIR_THRESHOLDS)
            for b in range(s.bins_.n_bins):
                test = Zt[b_te == b]
                if len(test) < MIN_TEST or counts[b] == 0:
                    continue
                c = np.full(N_GEN, s.bin_labels_[b])
                fake = s.generator_.sample(c, random_state=seed + 1000 * b)
                rec = {"seed": seed, "generator": gen, "bin": b, "region": str(regions[b]),
                       "train_rows": int(counts[b]), "test_rows": int(len(test)),
                       "frechet": frechet(fake, test)}  # fmt: skip
                if gen == GENERATORS[0] and counts[b] >= 2:
                    rec["frechet_real_train"] = frechet(Z[b_tr == b], test)
                records.append(rec)
            print(f"seed {seed} {gen} done", file=sys.stderr)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{prefix}.json").write_text(json.dumps(records, indent=1))
    Path(f"{prefix}.md").write_text(summary(records, run))
    print(summary(records, run))


def summary(records: list[dict], run: Path) -> str:
    """Per region: the mean over bins of the Frechet distance, mean ± std over seeds, per
    generator; the paired ratio pogdiff / diffusion per seed; the real-training reference."""
    seeds = sorted({r["seed"] for r in records})
    lines = [f"Per-bin Frechet distance to held-out real features (`{run}`, seeds {seeds}; "
             f"bins with >= {MIN_TEST} test rows; lower is better)", "",
             "| region | bins | diffusion (latentdiff) | pogdiff | pogdiff / diffusion | "
             "real train features |", "|---|---|---|---|---|---|"]  # fmt: skip
    for region in ("many", "medium", "few", "all"):
        d, p = (
            _per_seed(records, seeds, region, "diffusion"),
            _per_seed(records, seeds, region, "pogdiff"),
        )
        ref = _per_seed(records, seeds, region, "diffusion", "frechet_real_train")
        if not d:
            continue
        n_bins = len({r["bin"] for r in records if region == "all" or r["region"] == region})
        ratio = [b / a for a, b in zip(d, p, strict=True)]
        lines.append(f"| {region} | {n_bins} | {_ms(d)} | {_ms(p)} | {_ms(ratio, '.3f')} | "
                     f"{_ms(ref)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _per_seed(records, seeds, region: str, gen: str, key: str = "frechet") -> list[float]:
    """Per seed, the mean of ``key`` over the bins of ``region`` ("all": every bin)."""
    out = []
    for s in seeds:
        v = [r[key] for r in records if r["seed"] == s and r["generator"] == gen
             and key in r and (region == "all" or r["region"] == region)]  # fmt: skip
        if v:
            out.append(statistics.fmean(v))
    return out


def _ms(v: list[float], fmt: str = ".3g") -> str:
    sd = f" ± {statistics.stdev(v):{fmt}}" if len(v) > 1 else ""
    return f"{statistics.fmean(v):{fmt}}{sd}"


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
