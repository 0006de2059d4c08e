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
