"""Transfer of a trained feature generator (CoDSA, seed 001, sec. 2.1 and app. A, "Transfer
diffusion models"): a generator trained on one run's features is exported to a file, and a
later fit starts from it and fine-tunes it on its own features, either every parameter
(``full``, CoDSA's full-parameter fine-tuning) or only the layers at the ends of the network
(``head``, its partial fine-tuning; which layers: ``FeatureGenerator.head_parameters``).

The exported file (``checkpoints/seed-S/generator-METHOD.safetensors`` of a run directory) is
safetensors plus a JSON header, written by :func:`latentdiff.io.save_state`, never a pickle:

* tensors: the weights the generator samples with (the EMA copy where it keeps one; the GAN's
  discriminator too), the feature standardisation ``z_mean``, ``z_std``;
* header: ``format``, the generator's name and settings, the feature dimension, the condition
  standardisation ``c_mean``, ``c_std`` and the range of the conditions it was trained on (label
  units), the steps it was trained for and, from the sampler, the label range and bin edges;
* its key: the fingerprint of all of that, so that a fine-tuning checkpoint of a later run names
  exactly the file it started from (a resumed fine-tuning refuses a changed source).

Rules when a fit starts from such a file (:meth:`FeatureGenerator.fit`):

* the generator kind, the feature dimension and the settings that shape the network or the
  diffusion process must match (ValueError naming both values);
* conditions are standardised with the *source's* ``c_mean`` / ``c_std``, so that a label value
  means to the pretrained label embedding what it meant in pretraining; features with the
  target's own statistics (the target's features come from another network: its per-dimension
  scales are its own, and the forward process assumes unit-variance features);
* target conditions partly outside the source's range: a warning (the label embedding
  extrapolates there until fine-tuning moves it, and both fine-tuning modes train it); wholly
  outside it (no overlap at all): an error, since the pretrained embedding has seen none of them.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..io import fingerprint, load_state, save_state

#: the ``format`` entry of an exported generator's header
FORMAT = "latentdiff-generator-1"


def export_path(checkpoints: str | Path, method: str) -> Path:
    """Where a run keeps the generator ``method`` trained for one seed (``checkpoints`` is the
    seed's folder, ``DIR/checkpoints/seed-S``)."""
    return Path(checkpoints) / f"generator-{method}.safetensors"


def resolve_source(source: str | Path, seed: int, method: str) -> Path:
    """The exported generator that ``source`` names for ``seed`` and ``method``: the file itself,
    or in a run directory the same seed's export of the same method (ValueError if none)."""
    path = Path(source)
    if path.is_file():
        return path
    if path.is_dir():
        file = export_path(path / "checkpoints" / f"seed-{int(seed)}", method)
        if file.is_file():
            return file
        there = sorted(p.name for p in file.parent.glob("generator-*.safetensors"))
        raise ValueError(
            f"generator_from: the run directory {path} has no generator of {method} for seed "
            f"{seed} (expected {file}; found: {', '.join(there) or 'none'})"
        )
    raise ValueError(f"generator_from: no such file or run directory: {path}")


@dataclass(frozen=True)
class Pretrained:
    """An exported generator read back: its weights by network and its header."""

    path: Path
    key: str
    modules: dict[str, dict[str, torch.Tensor]]
    meta: dict

    @property
    def n_features(self) -> int:
        return int(self.meta["n_features"])

    @property
    def c_range(self) -> tuple[float, float]:
        lo, hi = self.meta["c_range"]
        return float(lo), float(hi)


def _content_key(state: dict, meta: dict) -> str:
    tensors = [state["z_mean"], state["z_std"]]
    for name in sorted(state["modules"]):
        weights = state["modules"][name]
        tensors += [(k, weights[k]) for k in sorted(weights)]
    flat = [t for item in tensors for t in (item if isinstance(item, tuple) else (item,))]
    return fingerprint(FORMAT, meta, *flat)


def save_pretrained(path, modules: dict, z_mean, z_std, meta: dict) -> Path:
    """Write an exported generator atomically (see the module's docstring for its content)."""
    weights = {
        k: {n: t.detach().cpu() for n, t in m.state_dict().items()} for k, m in modules.items()
    }
    state = {
        "modules": weights,
        "z_mean": torch.as_tensor(np.asarray(z_mean, dtype=np.float64)),
        "z_std": torch.as_tensor(np.asarray(z_std, dtype=np.float64)),
    }
    meta = {"format": FORMAT, **meta}
    return save_state(path, state, _content_key(state, meta), meta)


def load_pretrained(path) -> Pretrained:
    """An exported generator; a file that is not one (a training checkpoint, a network, a
    foreign or corrupted file) is refused with a ValueError naming it."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder: give an exported generator file (a run directory is resolved "
            f"per seed and method by the latentdiff and latentgan methods, resolve_source)"
        )
    state, meta = load_state(path, None)
    if meta.get("format") != FORMAT:
        raise ValueError(
            f"{path} is not an exported generator (format {meta.get('format')!r}, expected "
            f"{FORMAT!r}): give a generator-METHOD.safetensors file of a run's checkpoints"
        )
    key = _content_key(state, meta)
    if _stored_key(path) != key:
        raise ValueError(f"{path} is corrupted: its content does not match its key")
    return Pretrained(path, key, state["modules"], meta)


def _stored_key(path: Path) -> str:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["latentdiff"])["key"]


def check_conditions(source: Pretrained, c: np.ndarray) -> None:
    """The label-range rule: an error when the target's conditions lie wholly outside the
    source's range, a warning when partly."""
    lo, hi = source.c_range
    t_lo, t_hi = float(np.min(c)), float(np.max(c))
    where = f"generator from {source.path} was trained on conditions (labels) in [{lo:.6g}, " \
            f"{hi:.6g}]; this fit's are in [{t_lo:.6g}, {t_hi:.6g}]"  # fmt: skip
    if t_hi < lo or t_lo > hi:
        raise ValueError(
            f"{where}, outside it entirely: its label embedding has seen none of these labels, "
            f"so there is nothing to transfer (train from scratch, or pretrain on these labels)"
        )
    if t_lo < lo or t_hi > hi:
        warnings.warn(
            f"{where}: outside [{lo:.6g}, {hi:.6g}] the pretrained label embedding "
            f"extrapolates until fine-tuning moves it",
            UserWarning,
            stacklevel=3,
        )
