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

The gate's acceptance per region (accepted / requested over the region's generation bins, from
the run's runs.json ``per_bin`` of latentdiff and pogdiff) is a second table.

    python scripts/issue12_pogdiff_frechet.py RUN_DIR OUT_PREFIX
    python scripts/issue12_pogdiff_frechet.py --summary-only RUN_DIR OUT_PREFIX

(``--summary-only``: the tables again from OUT_PREFIX.json and RUN_DIR's runs.json, which a copy
under docs/results holds, without fitting anything.)
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
    write_summary(records, run, prefix)


def write_summary(records: list[dict], run: Path, prefix: Path) -> None:
    text = summary(records, run) + "\n" + acceptance(run)
    Path(f"{prefix}.md").write_text(text)
    print(text)


def acceptance(run: Path) -> str:
    """Gate acceptance per region, latentdiff and pogdiff: per seed, accepted / requested summed
    over the region's generation bins (region by the bin's training count, DIR's thresholds);
    mean ± std over seeds, and pogdiff's minus latentdiff's on the same seed."""
    runs = json.loads((run / "runs.json").read_text())
    rate: dict[tuple[str, str, int], float] = {}
    for e in runs:
        if e.get("method") not in ("latentdiff", "pogdiff") or "per_bin" not in e:
            continue
        counts = np.array([b["n_real"] for b in e["per_bin"]])
        regions = regions_from_counts(counts, DIR_THRESHOLDS)
        for region in ("many", "medium", "few", "all"):
            bins = [b for b, r in zip(e["per_bin"], regions, strict=True)
                    if b["requested"] and (region == "all" or str(r) == region)]  # fmt: skip
            if bins:
                acc = sum(b["accepted"] for b in bins) / sum(b["requested"] for b in bins)
                rate[(e["method"], region, e["seed"])] = 100 * acc
    lines = [f"Gate acceptance per region, % of the requested features (`{run}/runs.json`)", "",
             "| region | latentdiff | pogdiff | pogdiff - latentdiff (points) |",
             "|---|---|---|---|"]  # fmt: skip
    for region in ("many", "medium", "few", "all"):
        seeds = sorted(s for (m, r, s) in rate if m == "latentdiff" and r == region)
        if not seeds:
            continue
        d = [rate[("latentdiff", region, s)] for s in seeds]
        p = [rate[("pogdiff", region, s)] for s in seeds]
        diff = [b - a for a, b in zip(d, p, strict=True)]
        signed = f"{statistics.fmean(diff):+.1f} ± {statistics.stdev(diff):.1f}"
        lines.append(f"| {region} | {_ms(d, '.1f')} | {_ms(p, '.1f')} | {signed} |")
    return "\n".join(lines) + "\n"


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
    if sys.argv[1] == "--summary-only":
        run_dir, out = Path(sys.argv[2]), Path(sys.argv[3])
        write_summary(json.loads(Path(f"{out}.json").read_text()), run_dir, out)
    else:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
