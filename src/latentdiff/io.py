"""Files the project writes: atomically (temporary file, then rename), so that a crash never
leaves a half-written one; tensors in safetensors and everything else in JSON, so that nothing
read back is ever unpickled.

* :func:`write_json`, :func:`atomic_write_text`, :func:`atomic_save_npy`: results and caches;
* :func:`save_tensors` / :func:`load_tensors`: a flat dict of tensors with JSON metadata;
* :func:`save_state` / :func:`load_state`: nested training state (a model's, an optimiser's,
  an EMA's ``state_dict``, RNG states) as one safetensors file, the nesting kept in its header;
* :func:`fingerprint`: the SHA-256 key a checkpoint or cache carries of what produced it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np


def _default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot write {type(o).__name__} as JSON")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path, write: Callable[[IO], None], binary: bool) -> Path:
    """Call ``write`` on a temporary file beside ``path``, sync it, then rename it over ``path``:
    readers see the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(
            fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})
        ) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return _atomic_write(path, lambda f: f.write(text), binary=False)


def atomic_write_bytes(path, data: bytes) -> Path:
    return _atomic_write(path, lambda f: f.write(data), binary=True)


def atomic_save_npy(path, array: np.ndarray) -> Path:
    """``np.save`` without pickle, atomically."""
    return _atomic_write(path, lambda f: np.save(f, array, allow_pickle=False), binary=True)


def _finite(obj):
    """``obj`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def write_json(path, obj) -> Path:
    """``obj`` as indented JSON, atomically; NaN and infinities are written as ``null``."""
    return atomic_write_text(
        path, json.dumps(_finite(obj), indent=2, default=_default, allow_nan=False) + "\n"
    )


def save_tensors(path, tensors: dict, metadata: dict | None = None) -> Path:
    """A dict of tensors as safetensors (no pickle), atomically; ``metadata`` is stored as one
    JSON string in the file's header (safetensors metadata holds strings only)."""
    import torch
    from safetensors.torch import save

    flat = {k: torch.as_tensor(v).detach().cpu().contiguous() for k, v in tensors.items()}
    meta = None if metadata is None else {"latentdiff": json.dumps(metadata, default=_default)}
    data = save(flat, metadata=meta)
    return _atomic_write(path, lambda f: f.write(data), binary=True)


def load_tensors(path) -> tuple[dict, dict]:
    """The tensors and the metadata of a file written by :func:`save_tensors`. A missing,
    truncated, corrupted or foreign file is refused with a ValueError naming it; nothing in it is
    executed (safetensors holds raw tensor bytes and a JSON header only)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for a bad header or size
        raise ValueError(f"{path} is not a readable safetensors checkpoint: {e}") from None
    if "latentdiff" not in meta:
        raise ValueError(f"{path} is a safetensors file but not one latentdiff wrote (no metadata)")
    try:
        return tensors, json.loads(meta["latentdiff"])
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: corrupted checkpoint metadata ({e})") from None


# --- nested state ---------------------------------------------------------------------------------
def _flatten(obj, prefix: str, tensors: dict):
    """JSON skeleton of ``obj`` with every tensor moved into ``tensors`` under a dotted key."""
    import torch

    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, dict):  # keys may be ints (an optimiser's per-parameter state)
        for k in obj:
            if not isinstance(k, str | int) or isinstance(k, bool):
                raise TypeError(f"cannot store a dict key of type {type(k).__name__} at {prefix}")
        return {"__dict__": [[k, _flatten(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, list | tuple):
        items = [_flatten(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {prefix} in a checkpoint")


def _unflatten(skeleton, tensors: dict, path):
    if isinstance(skeleton, list):
        return [_unflatten(v, tensors, path) for v in skeleton]
    if isinstance(skeleton, dict):
        if set(skeleton) == {"__tensor__"}:
            key = skeleton["__tensor__"]
            if key not in tensors:
                raise ValueError(f"{path}: corrupted checkpoint (tensor {key!r} is missing)")
            return tensors[key]
        if set(skeleton) == {"__tuple__"}:
            return tuple(_unflatten(v, tensors, path) for v in skeleton["__tuple__"])
        if set(skeleton) == {"__dict__"}:
            return {k: _unflatten(v, tensors, path) for k, v in skeleton["__dict__"]}
        raise ValueError(f"{path}: corrupted checkpoint (unexpected entry {sorted(skeleton)})")
    return skeleton


def save_state(path, state: dict, key: str, metadata: dict | None = None) -> Path:
    """Nested ``state`` (dicts, lists, tuples, tensors, numbers, strings) as one safetensors file,
    atomically, stamped with ``key`` (the :func:`fingerprint` of what produced it)."""
    tensors: dict = {}
    skeleton = _flatten(state, "s", tensors)
    meta = {"key": key, "state": skeleton, "metadata": metadata or {}}
    return save_tensors(path, tensors, meta)


def load_state(path, key: str | None) -> tuple[dict, dict]:
    """``(state, metadata)`` of a file written by :func:`save_state`. With ``key``, a file made
    from other inputs is refused (ValueError naming it): a stale checkpoint is never reused."""
    tensors, meta = load_tensors(path)
    if not {"key", "state"} <= set(meta):
        raise ValueError(f"{path} is a latentdiff file but not a training checkpoint")
    if key is not None and meta["key"] != key:
        raise ValueError(
            f"{path} was made from other inputs (data, configuration or seed) than this run's: "
            f"refusing to resume from it (its key {meta['key'][:12]}..., expected {key[:12]}...)"
        )
    return _unflatten(meta["state"], tensors, path), meta.get("metadata", {})


def _hash_update(h, obj) -> None:
    import torch

    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            h.update(b"O" + json.dumps([str(x) for x in obj.ravel()]).encode())
        else:
            a = np.ascontiguousarray(obj)
            h.update(f"A{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        return
    h.update(b"J" + json.dumps(obj, sort_keys=True, default=_default).encode())


def fingerprint(*parts) -> str:
    """SHA-256 hex digest of ``parts``: arrays and tensors by dtype, shape and bytes, everything
    else as canonical JSON. Equal inputs give equal keys on any machine."""
    h = hashlib.sha256(b"latentdiff-fingerprint-v1\0")
    for p in parts:
        _hash_update(h, p)
        h.update(b"\0")
    return h.hexdigest()
