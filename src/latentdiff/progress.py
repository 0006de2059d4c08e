"""Progress bars that suit where they are written: tqdm's redrawn bar on a terminal, and clean
single lines (no carriage returns, no cursor movement) when the output is a log file or a pipe,
so that a benchmark's log reads as text."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable


class LineProgress:
    """An iterable with tqdm's small interface (``set_postfix``) that writes one line when it
    starts, one at every tenth of the way (at most one every ``min_seconds``) and one at the end,
    each ``desc: done/total (percent) elapsed, postfix``."""

    def __init__(self, iterable: Iterable, desc: str, total: int | None, initial: int = 0,
                 file=None, min_seconds: float = 5.0):  # fmt: skip
        self.iterable, self.desc, self.initial = iterable, desc, initial
        self.total = total if total is not None else _len(iterable)
        self.file = file if file is not None else sys.stderr
        self.min_seconds = min_seconds
        self.postfix = ""
        self._open, self._done, self._t0 = False, initial, 0.0

    def set_postfix(self, values: dict | None = None, **kw) -> None:
        items = {**(values or {}), **kw}
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def _line(self, done: int, t0: float) -> None:
        total = f"/{self.total}" if self.total else ""
        pct = f" ({100 * done / self.total:.0f} %)" if self.total else ""
        tail = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {done}{total}{pct} {time.perf_counter() - t0:.1f} s{tail}",
              file=self.file, flush=True)  # fmt: skip

    def __iter__(self):
        t0 = last = self._t0 = time.perf_counter()
        done = self._done = self.initial
        step = max(1, (self.total or 0) // 10)
        self._open = True
        self._line(done, t0)
        for item in self.iterable:
            yield item
            done = self._done = done + 1
            now = time.perf_counter()
            if done % step == 0 and now - last >= self.min_seconds and done != self.total:
                self._line(done, t0)
                last = now
        self._open = False
        self._line(done, t0)

    def close(self) -> None:
        """The last line of a loop left early (``break`` after the work of an item, e.g. an
        early stop): that item counts as done."""
        if self._open:
            self._open = False
            self._line(self._done + 1, self._t0)


def _len(iterable) -> int | None:
    try:
        return len(iterable)
    except TypeError:
        return None


def progress_bar(iterable: Iterable, desc: str, enabled: bool = True, total: int | None = None,
                 initial: int = 0, leave: bool = True):  # fmt: skip
    """``iterable`` with a progress display: tqdm on a terminal, :class:`LineProgress` lines
    otherwise, nothing when ``enabled`` is False."""
    if not enabled:
        return _Silent(iterable)
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=desc, total=total, initial=initial, leave=leave)
    return LineProgress(iterable, desc, total, initial)


class _Silent:
    def __init__(self, iterable: Iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, values: dict | None = None, **kw) -> None:
        pass

    def close(self) -> None:
        pass
