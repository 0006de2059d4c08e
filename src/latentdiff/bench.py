"""Benchmarks: every method for every seed on one data set, one record per (method, seed,
region, metric), and a mean ± std table. The run directory's files are described in
:mod:`latentdiff.rundir`; the configuration in :class:`latentdiff.settings.BenchConfig`.

Every file is written atomically. A run killed at any point continues with
``run_bench(config, out, resume=True)`` (``latentdiff run --resume DIR``): the (method, seed)
pairs in ``runs.json`` are kept, trained networks are loaded from their checkpoints, a network
in training continues after its last finished epoch, a generator from its last training
checkpoint, and the results equal those of an uninterrupted run bit for bit (CPU).
The data split is the same for every seed; seeds change initialisation, batch order, dropout,
diffusion noise and generation.

``config.device`` (``--device``) is where every stage runs (:mod:`latentdiff.device`), checked
before anything is read. Under ``torchrun --nproc-per-node N`` (:mod:`latentdiff.distributed`)
every process runs the whole benchmark; the network and the diffusion model train as one
DistributedDataParallel job across them, the rest each process computes itself, and only rank
0 writes ``out``: the other ranks write into a private temporary directory (a copy of ``out``
when resuming, so that all continue from the same checkpoints), deleted at the end.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import distributed
from .data.base import DIRDataset
from .data.registry import load_dataset
from .device import resolve_device
from .encoders import DEFAULT_ENCODER, make_encoder
from .io import atomic_write_text, write_json
from .methods import RunContext
from .metrics import REGION_COLUMNS, per_bin_errors, shot_metrics
from .progress import progress_bar
from .reporting.tables import results_table
from .rundir import open_run_dir, resumed_results, write_config
from .settings import BenchConfig


def _records(dataset: str, method: str, seed: int, metrics: dict) -> list[dict]:
    return [
        {"dataset": dataset, "method": method, "seed": seed, "region": r, "metric": k, "value": v}
        for r in REGION_COLUMNS
        for k, v in metrics[r].items()
    ]


def run_bench(
    config: BenchConfig,
    out: str | Path,
    dataset: DIRDataset | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> list[dict]:
    """Run every method for every seed, write the run directory, return the records.

    ``dataset``: the data set already loaded (default: loaded as ``config.data`` says). A
    directory that already holds a run is refused unless ``resume`` (continue it: same
    configuration and data, checked) or ``overwrite`` (discard it and start again).
    """
    device = resolve_device(config.device)  # CUDA asked for and absent: refused before any work
    device = distributed.start(device)  # under torchrun: join the group (else unchanged)
    if not distributed.active():
        return _run(config, Path(out), dataset, resume, overwrite, device)
    # an exception leaves without the last barrier: torchrun then stops the other processes
    if distributed.is_main():
        distributed.barrier()  # until the other ranks have copied out (resume)
        records = _run(config, Path(out), dataset, resume, overwrite, device)
    else:
        records = _run_as_helper(config, Path(out), dataset, resume, device)
    distributed.stop()  # the ranks wait for each other here
    return records


def _run_as_helper(config, out: Path, dataset, resume: bool, device) -> list[dict]:
    """A torchrun process other than rank 0: the same benchmark, its files in a temporary
    directory (rank 0's run directory copied there first when resuming)."""
    with tempfile.TemporaryDirectory(prefix=f"latentdiff-rank{distributed.rank()}-") as tmp:
        mine = Path(tmp) / "run"
        if resume:
            shutil.copytree(out, mine)
        distributed.barrier()  # rank 0 starts (and may write to out) after the copies
        return _run(config.replace(progress=False), mine, dataset, resume, False, device)


def _run(config: BenchConfig, out: Path, dataset, resume: bool, overwrite: bool, device):
    saved = open_run_dir(out, resume, overwrite)
    if dataset is None:
        if config.data is None:
            raise ValueError("no data: give the configuration a DataConfig or pass dataset=")
        d = config.data
        dataset = load_dataset(d.dataset, **d.given())
    encoder_name = config.encoder or DEFAULT_ENCODER[dataset.modality]
    records: list[dict] = []
    runs: list[dict] = []  # one per (method, seed); a failed one holds "error" instead
    if resume:
        records, runs = resumed_results(out, saved, config, dataset.fingerprint())
    else:
        encoder = make_encoder(encoder_name, **config.encoder_options)
        write_config(out, config, encoder_name, encoder, dataset)
    done = {(r["method"], r["seed"]) for r in runs}
    for seed in progress_bar(config.seeds, "seeds", config.progress):
        ctx = RunContext(
            dataset,
            lambda: make_encoder(encoder_name, **config.encoder_options),
            config.train,
            int(seed),
            sampler=config.sampler,
            head=config.head,
            progress=config.progress,
            checkpoints=out / "checkpoints" / f"seed-{int(seed)}",
            criterion=config.criterion,
            device=str(device),
        )
        for name in config.methods:
            if (name, int(seed)) not in done:
                _run_method(name, config, ctx, dataset, out, records, runs)
    table = results_table(records, runs, dataset, config.table_metrics)
    atomic_write_text(out / "results.md", table)
    _write_figures(out, dataset)
    return records


def _write_figures(out: Path, dataset) -> None:
    """``plots/`` and ``index.html`` (:mod:`latentdiff.reporting.html`); a figure that cannot be
    drawn is a warning on stderr, never a lost run."""
    try:
        from .reporting.html import write_report
        from .reporting.plots import label_summary

        write_json(out / "plots" / "labels.json", label_summary(dataset))
        problems = write_report(out)
    except Exception as e:  # the results are written; the figures are extra
        problems = [f"plots and index.html not written: {type(e).__name__}: {e}"]
    for p in problems:
        print(f"latentdiff: warning: {out}: {p}", file=sys.stderr)


def _run_method(name, config, ctx: RunContext, dataset, out: Path, records, runs) -> None:
    """One (method, seed): its records and run entry, or its error, written as soon as known."""
    seed = ctx.seed
    try:
        output, seconds = ctx.run_method(name, config.options_for(name))
        for split, pred in output.predictions.items():
            if not np.all(np.isfinite(pred)):
                raise ValueError(
                    f"{int((~np.isfinite(pred)).sum())} {split} prediction(s) are NaN or inf: "
                    f"training diverged (try a smaller learning rate)"
                )
    except ValueError as e:  # a method that cannot run here: record it, go on
        runs.append({"method": name, "seed": seed, "error": str(e)})
        print(f"latentdiff: {name} (seed {seed}) failed: {e}", file=sys.stderr)
    else:
        # a shared network's training is counted once, under the method that is that network
        # (vanilla, lds, ...), whatever the order; head methods report their own time only
        regions = dataset.regions
        test = shot_metrics(dataset.test.y, output.predictions["test"], regions.of(dataset.test.y))
        val = shot_metrics(dataset.val.y, output.predictions["val"], regions.of(dataset.val.y))
        records += _records(dataset.name, name, seed, test)
        per_bin = per_bin_errors(dataset.eval_bins, dataset.test.y, output.predictions["test"])
        runs.append({"method": name, "seed": seed, "seconds": seconds, "val": val,
                     "test_per_bin": per_bin, **output.info})  # fmt: skip
        write_json(out / "results.json", records)  # after every run: nothing is lost
    write_json(out / "runs.json", runs)  # last: a pair counts as done once it is here
    # the generator's training state is needed only until the method's outcome is recorded
    shutil.rmtree(ctx.generator_dir(), ignore_errors=True)
