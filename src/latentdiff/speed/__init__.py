"""``latentdiff speed``: this machine's float32 matrix-multiply rate, the diffusion model's
training and generation throughput beside the FLOP-count roofline that rate allows
(:mod:`latentdiff.flops`), peak memory, seed 000's own figures, the input-space samplers' wall
time, and streaming generation of many synthetic features to disk. Written as JSON and markdown.

Parts: :mod:`.measure` (the machine, the diffusion model), :mod:`.samplers` (SMOTER, SMOGN, the
``smogn`` package), :mod:`.stream` (generation to disk, in a child process), :mod:`.paper` (seed
000's Tables 4-5), :mod:`.report` (the markdown).
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..flops import DenoiserSize, size_for_parameters
from . import paper

PARTS = ("machine", "diffusion", "samplers", "stream")


@dataclass(frozen=True)
class SpeedPlan:
    """What a speed run measures (``quick``: a few seconds in all, for tests)."""

    quick: bool = False
    parts: tuple[str, ...] = PARTS
    batches: tuple[int, ...] = (64, 256, 1024, 4096)
    timesteps: int = 50
    #: data for the sampler timing (None: a synthetic table) and the rows the smogn package
    #: gets (it is quadratic in rows: 528 s on all 20,640 California rows)
    table: str | None = None
    target: str | None = None
    smogn_rows: int = 3000
    smogn_python: str | None = None
    #: feature dimensions of the diffusion cases (None: all)
    dims: tuple[int, ...] | None = None
    stream: dict = field(default_factory=dict)
    stream_dir: str | None = None

    @classmethod
    def make(cls, quick: bool = False, **kw) -> SpeedPlan:
        if quick:
            kw.setdefault("batches", (8, 32))
            kw.setdefault("timesteps", 5)
            kw.setdefault("smogn_rows", 300)
            kw["stream"] = {"rows": 2000, "m": 16, "n_real": 200, "n_bins": 2,
                            "timesteps": 2, "diffusion_steps": 2, "chunk": 512,
                            **kw.get("stream", {})}  # fmt: skip
        else:
            # K = 20 as in Table 6; T = 2 with a cheap denoiser: the seed-000 one would take
            # hours for a million rows on this CPU
            kw["stream"] = {"rows": 1_000_000, "m": 2048, "n_real": 10_000, "n_bins": 20,
                            "timesteps": 2, **kw.get("stream", {})}  # fmt: skip
        return cls(quick=quick, **kw)


def cases(plan: SpeedPlan) -> list:
    """The denoisers measured: the project's default one at m = 64 and 256 (sized from m), and
    at m = 2048 the width and depth whose parameter count is nearest seed 000's 12.9 M."""
    from ..generators.diffusion import denoiser_size
    from ..settings import DiffusionConfig
    from .measure import Case

    if plan.quick:
        return [Case("m=16 (tiny)", DenoiserSize(16, 32, 1, 8), "a tiny denoiser for tests")]
    d = DiffusionConfig()
    default = "the default denoiser for m (DiffusionConfig defaults, denoiser_size)"
    big = size_for_parameters(2048, paper.PARAMETERS)

    def auto(m: int) -> DenoiserSize:
        return DenoiserSize(m, *denoiser_size(m, d), d.embed_dim)

    return [
        Case("m=64", auto(64), default),
        Case("m=256", auto(256), default),
        Case(
            "m=2048 (seed 000)",
            big,
            f"nearest to seed 000's {paper.PARAMETERS / 1e6:.1f} M parameters (Table 4(c)) "
            f"over widths 128..4096 (step 128) x 1..8 blocks, embeddings 128: "
            f"{big.parameters() / 1e6:.2f} M",
        ),
    ]


def _machine() -> dict:
    import torch

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "load_average_at_start": list(os.getloadavg()),
    }


def run_speed(plan: SpeedPlan, log=print) -> dict:
    """Measure what ``plan`` asks; returns the report as a JSON-able dict."""
    from . import measure, samplers
    from .stream import run_stream

    t_start = time.perf_counter()
    report: dict = {"plan": asdict(plan), "machine": _machine(), "paper": {
        "source": paper.SOURCE, "parameters": paper.PARAMETERS,
        "flops_per_step": paper.FLOPS_PER_STEP, "training": paper.TRAINING,
        "generation": paper.GENERATION}}  # fmt: skip
    log("matmul rate ...")
    sizes = (256, 512) if plan.quick else (1024, 2048)
    report["matmul"] = measure.matmul_rate(sizes, repeats=3 if plan.quick else 5)
    gflops = report["matmul"]["gflops"]
    if "diffusion" in plan.parts:
        seconds = 0.05 if plan.quick else 1.5
        report["diffusion"] = []
        for case in cases(plan):
            if plan.dims is not None and case.size.m not in plan.dims:
                continue
            s = case.size
            entry = {"case": case.name, "source": case.source, **asdict(s),
                     "parameters": s.parameters(), "forward_flops_per_row": s.forward_flops(),
                     "training_flops_per_row": s.training_flops(),
                     "generation_flops_per_row": s.generation_flops(plan.timesteps),
                     "training": [], "generation": []}  # fmt: skip
            for b in plan.batches:
                log(f"{case.name}: batch {b} training ...")
                entry["training"].append(measure.training_rate(case, b, gflops, seconds))
                log(f"{case.name}: batch {b} generation ...")
                entry["generation"].append(
                    measure.generation_rate(case, b, gflops, plan.timesteps, seconds)
                )
            report["diffusion"].append(entry)
    if "samplers" in plan.parts:
        log("SMOTER / SMOGN ...")
        X, y, what = samplers.table(plan.table, plan.target, 300 if plan.quick else None)
        out = {"table": what, "ours_all_rows": samplers.time_ours(X, y)}
        Xs, ys, what_s = samplers.table(plan.table, plan.target, plan.smogn_rows)
        out["subsample"] = what_s
        out["ours_subsample"] = samplers.time_ours(Xs, ys)
        out["smogn_package_subsample"] = samplers.time_reference(Xs, ys, plan.smogn_python)
        report["samplers"] = out
    if "stream" in plan.parts:
        log(f"streaming {plan.stream.get('rows'):,} synthetic features ...")
        report["stream"] = run_stream(plan.stream_dir, **plan.stream)
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    report["seconds"] = time.perf_counter() - t_start
    return report


def write_report(report: dict, out: str | Path, command: str) -> tuple[Path, Path]:
    """``OUT.json`` and ``OUT.md`` (``out`` without its suffix), with the command written in."""
    from ..io import atomic_write_text
    from .report import markdown

    base = Path(out)
    base = base.with_suffix("") if base.suffix in (".json", ".md") else base
    base.parent.mkdir(parents=True, exist_ok=True)
    report = {"command": command, **report}
    js, md = base.with_suffix(".json"), base.with_suffix(".md")
    atomic_write_text(js, json.dumps(report, indent=2) + "\n")
    atomic_write_text(md, markdown(report))
    return js, md
