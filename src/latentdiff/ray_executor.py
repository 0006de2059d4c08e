"""``--executor ray``: a benchmark's (method, seed) pairs as Ray tasks, on a Ray started here or on
an existing cluster (``address``: ``auto``, ``HOST:6379``, ``ray://HOST:10001``), writing the
same run directory with the same results as the local executor
(:func:`latentdiff.bench.run_bench`; docs/scaling.md, "Grids on Ray").

The task graph, per seed, built from the pairs not yet in ``runs.json``:

* one *network task* per network that the seed's methods train or work on (the vanilla network
  for ``latentdiff``, ``rrt``, ...; the LDS network for ``lds`` and ``latentdiff+lds``): it
  trains the network and saves it in ``checkpoints/seed-S/`` as a local run does (a resumed run
  loads it there, or continues its training from the last epoch);
* one *method task* per (method, seed), started when its network task has finished: it loads the
  network from that checkpoint (bit-identical weights) and runs the method, so that a network is
  trained once per seed however many methods share it;
* a method that runs other methods (``auto``), or one that does not say which network it uses,
  runs after the seed's other methods are recorded, one at a time in the configured order, and is
  handed their outputs, as the local executor's :class:`RunContext` would hand them over.

Only the driver (the process that called :func:`run_pairs`) writes ``runs.json``,
``results.json``, ``results.md``, the figures: the tasks ship their predictions and diagnostics
back. The tasks write the checkpoints into the run directory themselves, so the run directory
must be on a filesystem that every node sees at the same path (any local Ray; NFS or the like on
a cluster): each task first checks that it sees the driver's ``config.json`` and stops the run
with a clear error if it does not.

Each task takes one CPU (``num_cpus=1``) and runs torch with that many threads. A network
trained by a sibling task of the same run is not reported as ``network_loaded_from_checkpoint``
(that flag means: trained by an earlier, interrupted run), so ``runs.json`` equals the local
executor's but for the seconds.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .methods import (
    Combined,
    HeadMethod,
    Method,
    MethodOutput,
    NetworkMethod,
    RunContext,
    get_method,
)
from .methods.base import network_slug
from .progress import progress_bar
from .rundir import IncompleteRun

INSTALL_HINT = "pip install 'latentdiff[ray]'"


def require_ray():
    """The ``ray`` module, or a ValueError saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise ValueError(
            f"--executor ray needs the ray package, which cannot be imported here ({e}); install "
            f"it with {INSTALL_HINT}, or run with --executor local"
        ) from None
    return ray


def network_of(method: Method) -> Combined | None:
    """The network ``method`` trains or works on, as a :class:`Combined` (its key and hooks), or
    None for a method that runs other methods (``auto``) or says nothing of its network (it
    overrides ``run``): such a method runs last in its seed."""
    if isinstance(method, Combined) and type(method).run is Combined.run:
        return method
    if isinstance(method, NetworkMethod) and type(method).run is NetworkMethod.run:
        return Combined([method])
    if isinstance(method, HeadMethod) and type(method).run is HeadMethod.run:
        return Combined([], method)
    return None


@dataclass
class SeedPlan:
    """The tasks of one seed: the pending methods that work on a network (by network key), the
    methods that run last, and the state of the run."""

    seed: int
    #: pending method -> the key of its network
    needs: dict[str, tuple] = field(default_factory=dict)
    #: network key -> the method whose hooks train it (the first that needs it)
    networks: dict[tuple, str] = field(default_factory=dict)
    #: pending methods that run last, one at a time, in the configured order
    last: list[str] = field(default_factory=list)
    #: network file names trained (not loaded) by a task of this run
    fresh: set[str] = field(default_factory=set)
    #: results of this seed's finished method tasks, for the methods that run last
    finished: list = field(default_factory=list)
    #: method tasks not yet finished (running, or waiting for their network)
    open_: int = 0

    def dependants(self, key: tuple) -> list[str]:
        return [m for m, k in self.needs.items() if k == key]


def plan(config, done: set) -> list[SeedPlan]:
    """One :class:`SeedPlan` per seed with pending pairs, in the configured order."""
    plans = []
    for seed in config.seeds:
        p = SeedPlan(int(seed))
        for name in config.methods:
            if (name, int(seed)) in done:
                continue
            net = network_of(get_method(name, config.options_for(name)))
            if net is None:
                p.last.append(name)
            else:
                p.needs[name] = net.key()
                p.networks.setdefault(net.key(), name)
        p.open_ = len(p.needs)
        if p.needs or p.last:
            plans.append(p)
    return plans


@dataclass
class _Shared:
    """What every task needs, put once in Ray's object store."""

    dataset: object
    config: object
    encoder_name: str
    out: str
    config_sha: str


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _start_task(shared: _Shared) -> str | None:
    """Torch threads for the CPUs Ray gave the task; the text of the problem when this node does
    not see the run directory."""
    import ray
    import torch

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))
    path = Path(shared.out) / "config.json"
    if not path.is_file() or _sha(path) != shared.config_sha:
        node = ray.util.get_node_ip_address()
        return (
            f"--executor ray: the Ray node {node} does not see the run directory {shared.out} "
            f"(its config.json is missing or another one): the tasks write the checkpoints "
            f"there, so put --out on a filesystem every node mounts at the same path"
        )
    return None


def _context(shared: _Shared, seed: int, **extra) -> RunContext:
    from .bench import seed_context

    cls = _TaskContext if extra else RunContext
    # the object store hands out read-only arrays: the task gets a copy of its own
    dataset = copy.deepcopy(shared.dataset)
    return seed_context(shared.config, dataset, shared.encoder_name, seed, shared.out,
                        progress=False, cls=cls, **extra)  # fmt: skip


def _network_task(shared: _Shared, seed: int, owner: str) -> dict:
    """Train (or load) the network of method ``owner`` for ``seed``."""
    problem = _start_task(shared)
    if problem:
        return {"filesystem": problem}
    ctx = _context(shared, seed)
    net = network_of(get_method(owner, shared.config.options_for(owner)))
    try:
        fit = ctx.network(net.key(), lambda: net.make_hooks(ctx))
    except ValueError as e:  # the methods on this network cannot run: each records this error
        return {"error": str(e)}
    return {"trained": fit.loaded_from is None,
            "file": f"network-{network_slug(net.key())}.safetensors"}  # fmt: skip


def _method_task(shared: _Shared, seed: int, name: str, fresh: list[str], *finished: dict):
    """Run method ``name`` for ``seed``; ``finished``: the results of the seed's other method
    tasks, whose outputs it reuses (``auto``)."""
    from .bench import method_outcome

    problem = _start_task(shared)
    if problem:
        return {"filesystem": problem}
    config = shared.config
    ctx = _context(shared, seed, fresh=frozenset(fresh))
    for r in finished:
        if "output" in r:
            ctx.remember(r["method"], config.options_for(r["method"]), r["output"], r["seconds"])
    try:
        output, seconds = method_outcome(name, config, ctx)
    except ValueError as e:
        return {"method": name, "error": str(e)}
    # the trained model stays here: the driver records predictions and diagnostics only
    shipped = MethodOutput(
        output.predictions, output.info, output.network_seconds, analysis=output.analysis
    )
    return {"method": name, "output": shipped, "seconds": seconds}


@dataclass
class _TaskContext(RunContext):
    """A seed's context in a method task: a network loaded from the checkpoint that a network
    task of this run wrote counts as trained in this run (as in the local executor, where it is
    in memory), and its loading is not the method's time."""

    fresh: frozenset = frozenset()

    def network(self, key: tuple = (), make_hooks=list):
        if key in self._networks:
            return self._networks[key]
        t0 = time.perf_counter()
        fit = super().network(key, make_hooks)
        if fit.loaded_from is not None:
            self.fresh_seconds += time.perf_counter() - t0
            if fit.loaded_from.name in self.fresh:
                fit.loaded_from = None
        return fit


def _connect(ray, address: str | None) -> bool:
    """Start a local Ray (``address`` None) or connect to a cluster; False when this process had
    already initialised Ray (it is used as it is and left running)."""
    if ray.is_initialized():
        return False
    if address is None:
        # "local": a new Ray of this machine's CPUs, never one that `ray start` left running
        ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING)
        return True
    # the cluster runs this very latentdiff (its dependencies must be installed there)
    runtime_env = {"py_modules": [str(Path(__file__).resolve().parent)]}
    try:
        ray.init(address=address, runtime_env=runtime_env, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError, SystemExit) as e:
        # SystemExit: ray.init exits when no GCS answers at a HOST:PORT address; ValueError:
        # ray://  without ray[client] (grpcio), whose message says what to install
        why = f"exit status {e.code}: nothing answered there" if isinstance(e, SystemExit) else e
        raise ValueError(f"--address {address}: cannot connect to a Ray cluster ({why})") from None
    return True


def _describe(error: Exception) -> str:
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}"
    return f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"


def run_pairs(config, out: Path, dataset, encoder_name: str, done: set, records: list,
              runs: list, address: str | None = None) -> None:  # fmt: skip
    """Run the pairs not in ``done`` as Ray tasks and record each as it finishes
    (:func:`latentdiff.bench.record_outcome`); ``config.json`` is already written."""
    plans = plan(config, done)
    if not plans:
        return
    ray = require_ray()
    out = Path(out).resolve()
    started = _connect(ray, address)
    inflight: dict = {}
    try:
        shared = ray.put(_Shared(dataset, config, encoder_name, str(out),
                                 _sha(out / "config.json")))  # fmt: skip
        grid = _Grid(ray, shared, config, out, dataset, records, runs, plans, inflight)
        total = sum(len(p.needs) + len(p.last) for p in plans)
        for _ in progress_bar(grid.events(), "pairs", config.progress, total=total):
            pass
    finally:
        for ref in list(inflight):  # Ctrl-C or an error: stop what still runs
            # a KeyboardInterrupt in each task, its worker kept (a driver that leaves a cluster
            # ends its tasks there anyway); what the tasks saved stays for --resume
            ray.cancel(ref)
        if started:
            ray.shutdown()
    if grid.unexpected:
        what = "; ".join(f"{m} (seed {s}): {e}" for m, s, e in grid.unexpected)
        raise IncompleteRun(
            f"{len(grid.unexpected)} pair(s) stopped with an unexpected error and were not "
            f"recorded: {what}. The other pairs are in {out}; continue with --resume {out}"
        )


class _Grid:
    """The driver's side: submits the tasks as their inputs are ready and records each pair."""

    def __init__(self, ray, shared, config, out, dataset, records, runs, plans, inflight):
        self.ray, self.shared, self.config, self.out = ray, shared, config, out
        self.dataset, self.records, self.runs, self.plans = dataset, records, runs, plans
        self.inflight = inflight
        self.network_task = ray.remote(num_cpus=1)(_network_task)
        self.method_task = ray.remote(num_cpus=1)(_method_task)
        self.unexpected: list[tuple[str, int, str]] = []

    def events(self) -> Iterator[None]:
        """Yields once per pair recorded (or stopped by an unexpected error)."""
        for p in self.plans:
            for key, owner in p.networks.items():
                self.inflight[self.network_task.remote(self.shared, p.seed, owner)] = (p, key)
            self._next_last(p)
        while self.inflight:
            (ref,), _ = self.ray.wait(list(self.inflight), num_returns=1)
            p, what = self.inflight.pop(ref)
            try:
                result = self.ray.get(ref)
            except self.ray.exceptions.RayError as e:  # a bug in a task, a worker lost
                print(f"latentdiff: a Ray task failed: {e}", file=sys.stderr)
                result = {"crash": _describe(e)}
            if "filesystem" in result:
                raise ValueError(result["filesystem"])
            if isinstance(what, tuple):  # a network task
                yield from self._network_done(p, what, result)
            else:
                self._method_done(p, what, result, ref)
                yield
            self._next_last(p)

    def _network_done(self, p: SeedPlan, key: tuple, result: dict) -> Iterator[None]:
        for name in p.dependants(key):
            if "error" in result or "crash" in result:
                p.open_ -= 1
                if "crash" in result:
                    self.unexpected.append((name, p.seed, result["crash"]))
                else:  # what each of them would have raised training it: recorded as theirs
                    self._record(p, name, result["error"])
                yield
                continue
            if result["trained"]:
                p.fresh.add(result["file"])
            ref = self.method_task.remote(self.shared, p.seed, name, sorted(p.fresh))
            self.inflight[ref] = (p, name)

    def _method_done(self, p: SeedPlan, name: str, result: dict, ref) -> None:
        if name in p.needs:
            p.open_ -= 1
        else:
            p.last.remove(name)
        if "crash" in result:
            self.unexpected.append((name, p.seed, result["crash"]))
            return
        if "error" in result:
            self._record(p, name, result["error"])
            return
        self._record(p, name, (result["output"], result["seconds"]))
        p.finished.append(ref)

    def _record(self, p: SeedPlan, name: str, outcome) -> None:
        from .bench import record_outcome

        record_outcome(name, p.seed, outcome, self.config, self.dataset, self.out, self.records,
                       self.runs)  # fmt: skip

    def _next_last(self, p: SeedPlan) -> None:
        """Once the seed's method tasks are done: its generator training state goes (it is
        needed only until a method's outcome is recorded), then the next method that runs last
        starts, with the outputs of the others."""
        if p.open_ or any(q is p for q, _ in self.inflight.values()):
            return
        generators = _generator_root(self.out, p.seed)
        shutil.rmtree(generators, ignore_errors=True)
        if p.last:
            name = p.last[0]
            ref = self.method_task.remote(self.shared, p.seed, name, sorted(p.fresh), *p.finished)
            self.inflight[ref] = (p, name)


def _generator_root(out: Path, seed: int) -> Path:
    """``checkpoints/seed-S/generator``, the seed's :meth:`RunContext.generator_dir`."""
    return out / "checkpoints" / f"seed-{int(seed)}" / "generator"
