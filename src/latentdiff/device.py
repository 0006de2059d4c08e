"""Where the work runs: one device (``BenchConfig.device``, ``--device``) for every stage.

* stage 1, the network (:func:`latentdiff.training.fit_model`, ``encode``, ``predict``): the
  model lives on the device, batches are moved there, results come back as numpy;
* stage 3, the generator (:class:`latentdiff.generators.base.FeatureGenerator`, ``device=``):
  its networks and training batches; the random draws stay on a CPU ``torch.Generator`` so that
  a seed means the same numbers on every device;
* stage 6, the gate (:class:`latentdiff.augment.QualityGate`, ``device=``): the Mahalanobis
  distances of the synthetic features (the N x m x m part) in float64 on the device; the per-bin
  Ledoit-Wolf fits stay on the CPU (:mod:`latentdiff.shrinkage`, K problems on the real
  features);
* stage 7, the head (:func:`latentdiff.training.fit_head`): on the device of the model it
  retrains.

On the CPU nothing changes: the CPU path is the one the determinism and resume tests pin, bit
for bit. On a GPU results are close to the CPU's but not bit-identical (other kernels).
"""

from __future__ import annotations

import torch
from torch import nn


def resolve_device(name: str | torch.device) -> torch.device:
    """The torch device ``name`` ("cpu", "cuda", "cuda:N") names, or a ValueError saying why it
    cannot be used here, before any work: CUDA asked for on a machine (or a torch build) without
    it, or a GPU index beyond the GPUs there are. "cuda" is the current CUDA device (under
    torchrun, each process's own: :func:`latentdiff.distributed.local_device`)."""
    dev = torch.device(name)
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise ValueError(f"device {str(name)!r} is not supported: cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        why = (
            "this torch build has no CUDA support"
            if torch.version.cuda is None
            else "no CUDA GPU is visible (driver, CUDA_VISIBLE_DEVICES)"
        )
        raise ValueError(
            f"device {str(name)!r} was asked for but CUDA is not available: {why} (torch "
            f"{torch.__version__}); use --device cpu"
        )
    n = torch.cuda.device_count()
    if dev.index is not None and dev.index >= n:
        raise ValueError(
            f"device {str(name)!r}: there are {n} CUDA device(s), cuda:0 to cuda:{n - 1}"
        )
    return dev


def device_of(module: nn.Module) -> torch.device:
    """The device of a module's parameters (the CPU for a module without any)."""
    for p in module.parameters():
        return p.device
    return torch.device("cpu")


def rng_devices(dev: torch.device) -> list[int]:
    """The CUDA devices whose generators :func:`torch.random.fork_rng` must fork for work on
    ``dev`` (none on the CPU)."""
    if dev.type != "cuda":
        return []
    return [torch.cuda.current_device() if dev.index is None else dev.index]
