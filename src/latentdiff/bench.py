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

``executor="ray"`` runs the (method, seed) pairs as Ray tasks (:mod:`latentdiff.ray_executor`)
and writes the same directory; ``runs.json`` and ``results.json`` list the pairs in the order
of the seeds, then of the methods, whichever executor finished them first.
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
from .generators.pogdiff import check_neighbours_before_training
from .io import atomic_write_text, write_json
from .methods import RunContext
from .metrics import per_bin_errors, shot_metrics
from .progress import progress_bar
from .reporting.tables import results_table
from .rundir import open_run_dir, resumed_results, write_config
from .settings import BenchConfig

#: how the (method, seed) pairs are run
EXECUTORS = ("local", "ray")


def _records(dataset: str, method: str, seed: int, metrics: dict) -> list[dict]:
    return [
        {"dataset": dataset, "method": method, "seed": seed, "region": r, "metric": k, "value": v}
        for r in metrics  # all, many, medium, few, then a zero-shot protocol's regions
        for k, v in metrics[r].items()
    ]


def run_bench(
    config: BenchConfig,
    out: str | Path,
    dataset: DIRDataset | None = None,
    resume: bool = False,
    overwrite: bool = False,
    executor: str = "local",
    address: str | None = None,
) -> list[dict]:
    """Run every method for every seed, write the run directory, return the records.

    ``dataset``: the data set already loaded (default: loaded as ``config.data`` says). A
    directory that already holds a run is refused unless ``resume`` (continue it: same
    configuration and data, checked) or ``overwrite`` (discard it and start again).
    ``executor``: ``"local"`` (one method after another in this process) or ``"ray"`` (the
    pairs as Ray tasks on a local Ray started here, or on the cluster at ``address``).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if config.task == "classification":
        return _classification(config, out, dataset, resume, overwrite, executor, address)
    if address is not None and executor != "ray":
        raise ValueError("--address names a Ray cluster: give it with --executor ray")
    if executor == "ray":
        if distributed.launched():
            raise ValueError("--executor ray runs the pairs as Ray tasks; it does not combine "
                             "with torchrun: launch one process")  # fmt: skip
        from .ray_executor import require_ray

        require_ray()  # before the run directory is touched or any data read
        # the tasks check config.device where they run (fit_vanilla, FeatureGenerator)
        return _run(config, Path(out), dataset, resume, overwrite, config.device, executor,
                    address)  # fmt: skip
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


def _classification(config, out, dataset, resume, overwrite, executor, address) -> list[dict]:
    """``task = "classification"`` (:mod:`latentdiff.classification.benchmark`): local, one
    process, on the CPU (refused otherwise before anything is read or written)."""
    if executor != "local" or address is not None:
        raise ValueError("--executor ray is not available for --task classification: its "
                         "pairs share one stage 1 per seed and run here")  # fmt: skip
    if distributed.launched():
        raise ValueError("--task classification runs in one process; it does not combine with "
                         "torchrun")  # fmt: skip
    from .classification.benchmark import run_classification_bench

    return run_classification_bench(config, out, resume=resume, overwrite=overwrite,
                                    dataset=dataset)  # fmt: skip


def _run_as_helper(config, out: Path, dataset, resume: bool, device) -> list[dict]:
    """A torchrun process other than rank 0: the same benchmark, its files in a temporary
    directory (rank 0's run directory copied there first when resuming)."""
    with tempfile.TemporaryDirectory(prefix=f"latentdiff-rank{distributed.rank()}-") as tmp:
        mine = Path(tmp) / "run"
        if resume:
            shutil.copytree(out, mine)
        distributed.barrier()  # rank 0 starts (and may write to out) after the copies
        return _run(config.replace(progress=False), mine, dataset, resume, False, device)


def _run(config: BenchConfig, out: Path, dataset, resume: bool, overwrite: bool, device,
         executor: str = "local", address: str | None = None) -> list[dict]:  # fmt: skip
    saved = open_run_dir(out, resume, overwrite)
    if dataset is None:
        if config.data is None:
            raise ValueError("no data: give the configuration a DataConfig or pass dataset=")
        d = config.data
        dataset = load_dataset(d.dataset, **d.given())
    check_neighbours_before_training(dataset.train.y, config.sampler)  # before stage 1
    encoder_name = config.encoder or DEFAULT_ENCODER[dataset.modality]
    records: list[dict] = []
    runs: list[dict] = []  # one per (method, seed); a failed one holds "error" instead
    if resume:
        records, runs = resumed_results(out, saved, config, dataset.fingerprint())
    else:
        encoder = make_encoder(encoder_name, **config.encoder_options)
        write_config(out, config, encoder_name, encoder, dataset)
    done = {(r["method"], r["seed"]) for r in runs}
    if executor == "ray":
        from .ray_executor import run_pairs

        run_pairs(config, out, dataset, encoder_name, done, records, runs, address)
    else:
        for seed in progress_bar(config.seeds, "seeds", config.progress):
            ctx = seed_context(config, dataset, encoder_name, int(seed), out, device=str(device))
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


def seed_context(config: BenchConfig, dataset, encoder_name: str, seed: int, out: Path,
                 progress: bool | None = None, cls: type[RunContext] = RunContext,
                 **extra) -> RunContext:  # fmt: skip
    """The :class:`RunContext` of one seed of a benchmark (``cls``: a subclass, with its
    ``extra`` fields), its checkpoints in ``out/checkpoints/seed-S``, on ``config.device``
    unless ``extra`` names the device (this process's, under torchrun)."""
    extra.setdefault("device", config.device)
    extra.setdefault("analysis_rows", config.analysis_rows)
    return cls(
        dataset,
        lambda: make_encoder(encoder_name, **config.encoder_options),
        config.train,
        int(seed),
        sampler=config.sampler,
        head=config.head,
        progress=config.progress if progress is None else progress,
        checkpoints=Path(out) / "checkpoints" / f"seed-{int(seed)}",
        criterion=config.criterion,
        **extra,
    )


def method_outcome(name: str, config: BenchConfig, ctx: RunContext):
    """One (method, seed): ``(output, seconds)``, or a ValueError when the method cannot run
    here or its predictions are not finite."""
    output, seconds = ctx.run_method(name, config.options_for(name))
    for split, pred in output.predictions.items():
        if not np.all(np.isfinite(pred)):
            raise ValueError(
                f"{int((~np.isfinite(pred)).sum())} {split} prediction(s) are NaN or inf: "
                f"training diverged (try a smaller learning rate)"
            )
    return output, seconds


def _run_method(name, config, ctx: RunContext, dataset, out: Path, records, runs) -> None:
    """One (method, seed): its records and run entry, or its error, written as soon as known."""
    try:
        outcome = method_outcome(name, config, ctx)
    except ValueError as e:  # a method that cannot run here: record it, go on
        outcome = str(e)
    record_outcome(name, ctx.seed, outcome, config, dataset, out, records, runs)
    # the generator's training state is needed only until the method's outcome is recorded
    shutil.rmtree(ctx.generator_dir(), ignore_errors=True)


def record_outcome(name: str, seed: int, outcome, config: BenchConfig, dataset, out: Path,
                   records: list, runs: list) -> None:  # fmt: skip
    """Record one (method, seed): ``outcome`` is ``(output, seconds)`` or the error's text.
    ``results.json`` and ``runs.json`` are rewritten whole, atomically, their entries in the
    order of the seeds, then of the methods (the local executor's order)."""
    seed = int(seed)
    if isinstance(outcome, str):
        runs.append({"method": name, "seed": seed, "error": outcome})
        print(f"latentdiff: {name} (seed {seed}) failed: {outcome}", file=sys.stderr)
    else:
        output, seconds = outcome
        # a shared network's training is counted once, under the method that is that network
        # (vanilla, lds, ...), whatever the order; head methods report their own time only
        test = split_metrics(dataset, "test", output.predictions["test"])
        val = split_metrics(dataset, "val", output.predictions["val"])
        records += _records(dataset.name, name, seed, test)
        per_bin = per_bin_errors(dataset.eval_bins, dataset.test.y, output.predictions["test"])
        analysis = write_analysis_file(out, name, seed, output, dataset)
        runs.append({"method": name, "seed": seed, "seconds": seconds, "val": val,
                     "test_per_bin": per_bin, **output.info, "analysis": analysis})  # fmt: skip
        _in_order(records, config)
        write_json(out / "results.json", records)  # after every run: nothing is lost
    _in_order(runs, config)
    write_json(out / "runs.json", runs)  # last: a pair counts as done once it is here


def split_metrics(dataset, split: str, pred) -> dict:
    """:func:`shot_metrics` of one split's predictions; with zero-shot ranges
    (``dataset.zero_shot``) the rows in them are scored as their zero-shot regions (not as
    many / medium / few) and the regions ``with-data``, ``zero-shot-interp`` and
    ``zero-shot-extrap`` follow (:mod:`latentdiff.zeroshot`)."""
    from .zeroshot import ZERO_SHOT_REGIONS, region_labels

    y = getattr(dataset, split).y
    extra = () if dataset.zero_shot is None else ZERO_SHOT_REGIONS
    return shot_metrics(y, pred, region_labels(dataset, y), extra)


def write_analysis_file(out: Path, name: str, seed: int, output, dataset) -> dict:
    """A (method, seed)'s file for the feature-quality analysis (:mod:`latentdiff.analysis`):
    its test predictions and, for a LatentDiff-family method, its feature sample; what
    ``runs.json`` records of it (the file's path relative to ``out``)."""
    from .analysis.sample import sample_path, save_analysis_file

    path = sample_path(out, name, seed)
    regions = dataset.regions.to_dict()
    save_analysis_file(path, output.predictions["test"], dataset.test.y, output.analysis,
                       {"method": name, "seed": int(seed), "regions": regions})  # fmt: skip
    entry = {"file": path.relative_to(out).as_posix()}
    if output.analysis is not None:
        entry.update(output.analysis.summary())
    return entry


def _in_order(entries: list[dict], config: BenchConfig) -> None:
    """Sort (stably, in place) by seed, then method, as the configuration lists them."""
    seeds = {int(s): i for i, s in enumerate(config.seeds)}
    methods = {m: i for i, m in enumerate(config.methods)}
    entries.sort(key=lambda e: (seeds.get(int(e["seed"]), len(seeds)),
                                methods.get(e["method"], len(methods))))  # fmt: skip
