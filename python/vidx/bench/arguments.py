"""Argument types shared by the benchmark command lines (vidx-bench, benchmarks/head_to_head.py).

Each refuses, with a usage error naming the flag's value, what would otherwise reach a library
unchecked: faiss's HNSW with M=1 ends the process with a segmentation fault and hnswlib's
raises only after the data is loaded; an ef in the billions makes faiss size a buffer by it.
"""
from __future__ import annotations

import argparse

# vidx's own range for M (options.hpp). hnswlib and faiss take larger ones, but a benchmark
# compares them at one M, so the narrowest range is the one that can run.
MIN_DEGREE = 2
MAX_DEGREE = 2048
# Beam widths above this search every row of any dataset a benchmark here holds in memory
# (the largest, 10^6 rows, is searched exhaustively long before); the libraries size
# per-query buffers by ef, so a typo's extra zeros would exhaust memory instead of failing.
MAX_BEAM = 1_000_000


def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def count(text: str) -> int:
    """A count flag: a positive integer. 0 is refused, not read as "not given" (the default)."""
    value = _integer(text, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def degree(text: str) -> int:
    """A graph degree M, MIN_DEGREE..MAX_DEGREE."""
    value = _integer(text, "an integer M")
    if not MIN_DEGREE <= value <= MAX_DEGREE:
        raise argparse.ArgumentTypeError(f"M must be between {MIN_DEGREE} and {MAX_DEGREE}, got {text!r}")
    return value


def beam(text: str) -> int:
    """One beam width (ef, ef_construction), 1..MAX_BEAM."""
    value = _integer(text, "a positive integer")
    if not 1 <= value <= MAX_BEAM:
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to {MAX_BEAM:,}, got {text!r}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    """Comma-separated positive integers, at least one."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def beam_list(text: str) -> tuple[int, ...]:
    """Comma-separated beam widths (an ef sweep), each 1..MAX_BEAM."""
    values = int_list(text)
    if max(values) > MAX_BEAM:
        raise argparse.ArgumentTypeError(f"expected values from 1 to {MAX_BEAM:,}, got {text!r}")
    return values


def recall_target(text: str) -> float:
    """A recall target in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a recall in (0, 1], got {text!r}") from None
    if not 0.0 < value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"expected a recall in (0, 1], got {text!r}")
    return value
