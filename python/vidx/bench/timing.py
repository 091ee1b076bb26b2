"""Timed loops without Python's cyclic garbage collector, as ``timeit`` runs them.

A benchmark process holds every library's objects (h5py, numpy, the peers' modules), so a full
collection walks hundreds of thousands of them. One falling inside a timed loop of a few hundred
queries adds milliseconds to whichever library happened to be running (perf showed the collector
at ~6% of a filtered-search loop), which moves a same-run ratio by several percent from run to
run. With the collector paused only the code being timed is measured; reference counting still
frees everything a loop allocates, and the collector is back on between loops.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from time import perf_counter
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body with the cyclic collector off (restored afterwards, also on errors)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def timed_call(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds of one call of fn with the collector paused, and its result."""
    with gc_paused():
        start = perf_counter()
        result = fn()
        seconds = perf_counter() - start
    return seconds, result
