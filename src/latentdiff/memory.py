"""Refusing work that cannot fit in memory, before it starts, with the sizes named.

An absurd setting (a billion bins, a batch of a billion rows, a synthetic count of many times the
machine's memory) would otherwise die deep inside numpy or torch, or be killed by the operating
system with nothing said. :func:`require` compares an estimate with the memory available now.
"""

from __future__ import annotations

import os


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``; elsewhere the free
    physical pages), None if the platform does not say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def require(nbytes: float, what: str, advice: str) -> None:
    """Raise ValueError when ``what`` needs more than the available memory (``nbytes`` is an
    estimate of its peak); ``advice`` says which setting to lower. Where the platform does not
    report its memory, nothing is checked."""
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise ValueError(
            f"{what} needs about {nbytes / 2**30:.1f} GiB of memory, more than the "
            f"{avail / 2**30:.1f} GiB available; {advice}"
        )
