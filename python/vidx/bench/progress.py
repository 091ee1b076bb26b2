"""A progress bar on stderr: tqdm when installed, else a small one of our own.

Both return an iterable wrapper with ``set_postfix_str``, which is all the runner needs.
"""
from __future__ import annotations

import sys


def progress(iterable, total: int | None = None, desc: str = ""):
    try:
        from tqdm import tqdm
    except ImportError:
        return _SimpleBar(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=True, dynamic_ncols=True)


class _SimpleBar:
    """Redraws one line in a terminal; prints a line per step when stderr is a log file."""

    WIDTH = 24

    def __init__(self, iterable, total, desc):
        self._items = iterable
        self._total = total if total is not None else len(iterable)
        self._desc = desc
        self._postfix = ""
        self._tty = sys.stderr.isatty()

    def set_postfix_str(self, text: str) -> None:
        self._postfix = text

    def _draw(self, done: int, end: str) -> None:
        filled = self.WIDTH * done // max(1, self._total)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"{self._desc} [{bar}] {done}/{self._total} {self._postfix}"
        print(("\r" if self._tty else "") + line, end=end, file=sys.stderr, flush=True)

    def __iter__(self):
        done = 0
        if self._tty:
            self._draw(0, "")
        for item in self._items:
            yield item
            done += 1
            # The postfix describes the step just finished, so draw after the caller's work.
            self._draw(done, "" if self._tty else "\n")
        if self._tty:
            print(file=sys.stderr, flush=True)
