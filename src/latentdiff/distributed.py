"""Training on several processes under ``torchrun``: torch.distributed's process group,
DistributedDataParallel and DistributedSampler, for the two stages that train on the data,
stage 1 (the network, :mod:`latentdiff.training`) and stage 3 (the diffusion model,
:mod:`latentdiff.generators.base`).

Launch::

    torchrun --nproc-per-node N -m latentdiff.cli bench --device cpu ...   # gloo, N processes
    torchrun --nproc-per-node N -m latentdiff.cli bench --device cuda ...  # NCCL, one GPU each

torchrun sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; :func:`start` joins the group (gloo on
the CPU, NCCL on GPUs, process ``LOCAL_RANK`` on ``cuda:LOCAL_RANK``). The rules:

* **batches**: the global batch is the configured ``batch_size``; each of the N processes takes
  ``ceil(batch_size / N)`` rows of its shard per step, so a step, an epoch and the learning rate
  mean what they mean on one process (the same settings give comparable results). The shard is
  :class:`torch.utils.data.DistributedSampler` over the row indices, reshuffled every epoch
  (``set_epoch``) from the run's seed.
* **gradients**: averaged over the processes by DDP every step (a hook's own parameters, e.g.
  Balanced MSE's sigma, by an all-reduce), so every process holds the same weights; BatchNorm
  statistics are rank 0's after every epoch, and rank 0's validation score decides the best
  epoch and early stopping for all.
* **everything else** (encoding, generation, the gate, the head, evaluation) every process
  computes itself, identically, from the same weights and seeds; only rank 0 writes the run
  directory (:func:`latentdiff.bench.run_bench`).

Results under N processes are close to, not bit-identical with, one process: the batches are
composed differently (a DistributedSampler permutation instead of the single process's), so
the optimisation takes another path. Resuming a run under torchrun continues from rank 0's
checkpoints; the per-process random streams then restart from rank 0's.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler


def launched() -> bool:
    """Whether this process was started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def launched_rank() -> int:
    """This process's rank as torchrun set it (0 outside torchrun), group or not."""
    return int(os.environ.get("RANK", "0"))


def active() -> bool:
    """Whether a process group of more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


def start(device: torch.device) -> torch.device:
    """Join torchrun's process group (gloo on the CPU, NCCL with CUDA) and return this process's
    device; outside torchrun, ``device`` unchanged and nothing started."""
    if not launched():
        return device
    if device.type == "cuda":
        if device.index is not None:
            raise ValueError(
                f"device {str(device)!r} under torchrun: each process takes the GPU of its "
                f"LOCAL_RANK; give --device cuda"
            )
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def stop() -> None:
    """Leave the process group (after a last barrier, so that rank 0 finishes writing)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def barrier() -> None:
    dist.barrier()


def per_rank_batch(batch_size: int) -> int:
    """Rows per process and step: the global ``batch_size`` split over the processes."""
    return math.ceil(batch_size / world_size())


def shard_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """This process's rows of an epoch: DistributedSampler over ``range(n)``, shuffled from
    ``seed`` and the epoch (padded by repetition so that every process has as many)."""
    sampler = DistributedSampler(
        range(n), num_replicas=world_size(), rank=rank(), shuffle=True, seed=int(seed)
    )
    sampler.set_epoch(epoch)
    return np.fromiter(iter(sampler), dtype=np.int64)


def wrap(module: nn.Module) -> nn.Module:
    """``module`` in DistributedDataParallel (its weights broadcast from rank 0 now)."""
    from torch.nn.parallel import DistributedDataParallel

    dev = next(module.parameters()).device
    return DistributedDataParallel(module, device_ids=[dev] if dev.type == "cuda" else None)


def average_gradients(params) -> None:
    """All-reduce the gradients of ``params`` that DDP does not hold, divided by the number of
    processes (a hook's own parameters)."""
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= world_size()


def broadcast_buffers(module: nn.Module) -> None:
    """Rank 0's buffers (BatchNorm statistics) on every process."""
    for b in module.buffers():
        dist.broadcast(b, 0)


def agree(value: float, device: torch.device) -> float:
    """Rank 0's ``value`` on every process (a validation score that decides for all)."""
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.broadcast(t, 0)
    return float(t.item())
