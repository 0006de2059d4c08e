"""Issue 11, point 3: the diffusion model's reverse-process samplers (DDPM, DDIM, DPM-Solver++)
at a few step counts, on one data set, with everything else equal.

Per seed, the vanilla network and the LatentDiff sampler (diffusion model, priorities, gate) are
trained ONCE, with the settings ``latentdiff bench --methods vanilla,latentdiff`` uses; then the
fitted diffusion model is resampled with every (sampler, steps) pair
(``FeatureGenerator.set_sampling``), gated and the head retrained, all with the same seeds. The
rows differ by the sampler only; (ddpm, T) is the default LatentDiff of the benchmark.

    python scripts/issue11-samplers.py run --dataset california-housing \\
        --data ../shared/data/california-housing/california_housing.csv --work bench-out/s \\
        --json docs/results/issue-11/samplers/california-housing.json
    python scripts/issue11-samplers.py table docs/results/issue-11/samplers/*.json

``run`` writes one JSON file (settings, per-seed timings and test metrics); ``table`` prints the
markdown summary of one or more of them. Timings are wall seconds on this machine's CPU with
OMP_NUM_THREADS=1, while other work may share the cores: compare within a column.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from latentdiff.data.registry import load_dataset
from latentdiff.encoders import DEFAULT_ENCODER, make_encoder
from latentdiff.io import write_json
from latentdiff.methods import RunContext
from latentdiff.metrics import shot_metrics
from latentdiff.pipeline import refit_head
from latentdiff.samplers import LatentDiffSampler
from latentdiff.settings import SAMPLERS, BenchConfig, SettingError
from latentdiff.training import predict_from_features

GOAL_STEPS, GOAL_TOLERANCE = 10, 0.02  # issue 11: <= 10 steps within 2 % of the 50-step error


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def _metrics(dataset, pred: np.ndarray) -> dict:
    y = dataset.test.y
    return shot_metrics(y, pred, dataset.regions.of(y))


def run(a: argparse.Namespace) -> None:
    given = {"dataset": a.dataset} | ({"data": str(Path(a.data).resolve())} if a.data else {})
    config = BenchConfig.from_dict(
        {
            "data": given,
            "methods": ["vanilla", "latentdiff"],
            "seeds": a.seeds,
            "encoder": a.encoder,
            "progress": False,
            "sampler": {"diffusion": dict(a.diffusion_option or [])},
        }
    )
    d = config.data
    dataset = load_dataset(d.dataset, **d.given())
    encoder = config.encoder or DEFAULT_ENCODER[dataset.modality]
    diffusion = config.sampler.diffusion
    T = diffusion.timesteps
    pairs = []  # (sampler, steps) allowed by the settings; the refused ones are listed
    refused = []
    for name in a.samplers:
        for n in a.steps:
            try:
                diffusion.replace(scheduler=name, sampling_steps=n)
                pairs.append((name, n))
            except SettingError as e:
                refused.append({"sampler": name, "steps": n, "why": str(e)})
    out = {
        "dataset": dataset.name,
        "encoder": encoder,
        "command": " ".join(sys.argv),
        "git": {"commit": _git("rev-parse", "HEAD"), "dirty": bool(_git("status", "--porcelain"))},
        "machine": platform.processor() or platform.machine(),
        "config": config.to_dict(),
        "refused": refused,
        "seeds": [],
    }
    for seed in a.seeds:
        ctx = RunContext(dataset, lambda: make_encoder(encoder, **config.encoder_options),
                         config.train, int(seed), sampler=config.sampler, head=config.head,
                         progress=False, checkpoints=Path(a.work) / f"seed-{seed}",
                         criterion=config.criterion)  # fmt: skip
        t0 = time.perf_counter()
        net = ctx.vanilla()
        vanilla_s = net.seconds
        entry = {"seed": int(seed), "network_seconds": vanilla_s,
                 "network_loaded": net.loaded_from is not None,
                 "vanilla": _metrics(dataset, net.predictions("test")), "rows": []}  # fmt: skip
        # stages 3-6 fitted once: as methods/head.LatentDiff.run_on and pipeline.fit_latentdiff
        sampler = LatentDiffSampler.from_config(
            config.sampler, generator="diffusion", random_state=int(seed), progress=False,
            checkpoint_dir=Path(a.work) / f"seed-{seed}" / "generator",
        )  # fmt: skip
        Z = net.features("train")
        errors = np.abs(net.predictions("train") - dataset.train.y)  # eq. 8 inputs
        t1 = time.perf_counter()
        sampler.fit(Z, dataset.train.y, sample_errors=errors)
        entry["sampler_fit_seconds"] = time.perf_counter() - t1
        gen = sampler.generator_
        timing = {}
        draw = gen.sample

        def timed_sample(*args, _draw=draw, _timing=timing, **kw):
            t = time.perf_counter()
            result = _draw(*args, **kw)
            _timing["sample"] = time.perf_counter() - t
            return result

        gen.sample = timed_sample  # the generation alone, inside generate() (without the gate)
        for name, n in pairs:
            gen.set_sampling(scheduler=name, sampling_steps=n)
            t2 = time.perf_counter()
            Z_syn, y_syn = sampler.generate()
            t3 = time.perf_counter()
            model, result = refit_head(net, Z_syn, y_syn, config.head, int(seed), False)
            t4 = time.perf_counter()
            pred = predict_from_features(model, net.features("test"))
            if not np.all(np.isfinite(Z_syn)):
                raise RuntimeError(f"{name} at {n} steps drew non-finite features")
            row = {"sampler": name, "steps": n, "sample_seconds": timing["sample"],
                   "generate_and_gate_seconds": t3 - t2, "head_seconds": t4 - t3,
                   "n_requested": int(sum(r["requested"] for r in sampler.report_)),
                   "n_accepted": len(y_syn), "acceptance_rate": sampler.acceptance_rate_,
                   "head_best_epoch": result.best_epoch,
                   "test": _metrics(dataset, pred)}  # fmt: skip
            entry["rows"].append(row)
            print(f"seed {seed} {name:13s} {n:3d} steps: sample {timing['sample']:6.2f} s, "
                  f"accepted {row['acceptance_rate']:.3f}, few "
                  f"{row['test']['few'][a.metric]:.4f}, all {row['test']['all'][a.metric]:.4f}",
                  flush=True)  # fmt: skip
        gen.set_sampling(scheduler=diffusion.scheduler, sampling_steps=diffusion.sampling_steps)
        entry["seconds"] = time.perf_counter() - t0
        out["seeds"].append(entry)
        write_json(Path(a.json), {**out, "metric": a.metric, "timesteps": T})  # after each seed
    print(table([json.loads(Path(a.json).read_text())]))


def _ms(x: list[float], digits: int = 4) -> str:
    x = np.asarray(x, dtype=float)
    return f"{x.mean():.{digits}f} ± {x.std(ddof=1) if x.size > 1 else 0:.{digits}f}"


def table(results: list[dict]) -> str:
    """The markdown summary: per data set, one row per (sampler, steps)."""
    lines = []
    for r in results:
        metric, T = r["metric"], r["timesteps"]
        seeds = r["seeds"]
        ref = {s["seed"]: next(x for x in s["rows"] if x["sampler"] == "ddpm" and x["steps"] == T)
               for s in seeds}  # fmt: skip
        m = metric.upper()
        lines += [
            f"### {r['dataset']} ({r['encoder']}), {len(seeds)} seeds, test {m}",
            "",
            f"Reference: ddpm at {T} steps (= T, the default LatentDiff). Ratio: the mean over "
            f"seeds of the per-seed ratio to the reference (same network, generator and seeds).",
            "",
            f"| sampler | steps | sample s | few-shot {m} | few / ref | all-shot {m} | all / ref "
            f"| accepted |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            f"| vanilla | | | {_ms([s['vanilla']['few'][metric] for s in seeds])} | | "
            f"{_ms([s['vanilla']['all'][metric] for s in seeds])} | | |",
        ]
        pairs = list(dict.fromkeys((x["sampler"], x["steps"]) for x in seeds[0]["rows"]))
        for name, n in pairs:
            rows = [next(x for x in s["rows"] if (x["sampler"], x["steps"]) == (name, n))
                    for s in seeds]  # fmt: skip
            few = [x["test"]["few"][metric] for x in rows]
            al = [x["test"]["all"][metric] for x in rows]
            few_ratio = [x["test"]["few"][metric] / ref[s["seed"]]["test"]["few"][metric]
                         for x, s in zip(rows, seeds, strict=True)]  # fmt: skip
            all_ratio = [x["test"]["all"][metric] / ref[s["seed"]]["test"]["all"][metric]
                         for x, s in zip(rows, seeds, strict=True)]  # fmt: skip
            lines.append(
                f"| {name} | {n} | {_ms([x['sample_seconds'] for x in rows], 2)} | {_ms(few)} "
                f"| {_ms(few_ratio, 3)} | {_ms(al)} | {_ms(all_ratio, 3)} "
                f"| {np.mean([x['acceptance_rate'] for x in rows]):.3f} |"
            )
        for x in r["refused"]:
            lines.append(f"| {x['sampler']} | {x['steps']} | refused | | | | | |")
        lines.append("")
        fit = [s["sampler_fit_seconds"] for s in seeds]
        net = [s["network_seconds"] for s in seeds if not s["network_loaded"]]
        lines.append(
            f"Once per seed: network {_ms(net, 1) if net else '(loaded)'} s, sampler fit "
            f"(diffusion training, priorities, gate) {_ms(fit, 1)} s."
        )
        lines.append("")
        ok = []
        for name, n in pairs:
            if n > GOAL_STEPS:
                continue
            rows = [next(x for x in s["rows"] if (x["sampler"], x["steps"]) == (name, n))
                    for s in seeds]  # fmt: skip
            few = np.mean([x["test"]["few"][metric] for x in rows])
            ref_few = np.mean([ref[s["seed"]]["test"]["few"][metric] for s in seeds])
            change = few / ref_few - 1
            meets = " (meets)" if change <= GOAL_TOLERANCE else ""
            ok.append(f"{name} {n}: {change:+.1%}{meets}")
        goal = f"Goal (<= {GOAL_STEPS} steps, mean few-shot {m} at most {GOAL_TOLERANCE:.0%} above"
        lines.append(f"{goal} the reference): " + "; ".join(ok) + ".")
        lines.append("")
    return "\n".join(lines)


def _key_value(s: str):
    key, value = s.split("=", 1)
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train once per seed, resample with every sampler")
    r.add_argument("--dataset", required=True)
    r.add_argument("--data")
    r.add_argument("--encoder")
    r.add_argument("--seeds", default="0,1,2")
    r.add_argument("--samplers", default=",".join(SAMPLERS))
    r.add_argument("--steps", default="5,10,20,25,50")
    r.add_argument("--metric", default="mse", help="the table's error (test, per region)")
    r.add_argument("--diffusion-option", action="append", type=_key_value,
                   help="KEY=VALUE of DiffusionConfig (a quick check: n_steps=50)")  # fmt: skip
    r.add_argument("--work", required=True, help="checkpoints (networks, generator state)")
    r.add_argument("--json", required=True, help="the result file")
    t = sub.add_parser("table", help="markdown summary of result files")
    t.add_argument("files", nargs="+")
    a = p.parse_args()
    if a.command == "table":
        print(table([json.loads(Path(f).read_text()) for f in a.files]))
        return
    a.seeds = [int(s) for s in a.seeds.split(",")]
    a.samplers = [s.strip() for s in a.samplers.split(",")]
    a.steps = [int(s) for s in a.steps.split(",")]
    run(a)


if __name__ == "__main__":
    main()
