"""Writing files so that a crash never leaves a half-written one: temporary file, then rename."""

from __future__ import annotations

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


def atomic_save_npy(path, array: np.ndarray) -> Path:
    """``np.save`` without pickle, atomically."""
    return _atomic_write(path, lambda f: np.save(f, array, allow_pickle=False), binary=True)


def write_json(path, obj) -> Path:
    return atomic_write_text(
        path, json.dumps(obj, indent=2, default=_default, allow_nan=False) + "\n"
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
