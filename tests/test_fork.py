"""Indexes made before fork() work in the child (multiprocessing's default start method on Linux):
the child has none of the parent's threads, and searches there waited for them forever."""
import multiprocessing
import os

import numpy as np
import pytest

import vidx

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")

DIM = 16
ROWS = np.random.default_rng(0).standard_normal((3000, DIM)).astype(np.float32)
INDEXES = {}


def _in_child(kind):
    index = INDEXES[kind]
    found = index.search(ROWS[:64], k=5)[1][:, 0]
    if kind != "spann":  # writes in the child too (its own copy)
        index.add(ROWS[:500] + 10.0)
    del INDEXES[kind]  # the index and its threads go away in the child
    return kind, float(np.mean(found == np.arange(64)))


def test_indexes_made_before_fork_search_in_the_child(tmp_path):
    for kind in ("hnsw", "flat", "spann"):
        options = {"path": str(tmp_path / "p.post")} if kind == "spann" else {}
        INDEXES[kind] = vidx.Index(DIM, kind=kind, threads=2, **options)
        INDEXES[kind].add(ROWS, progress=False)
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map_async(_in_child, ["hnsw", "flat", "spann"]).get(timeout=120)
        assert dict(results) == {"hnsw": 1.0, "flat": 1.0, "spann": 1.0}
        assert np.array_equal(INDEXES["hnsw"].search(ROWS[:10], k=1)[1][:, 0], np.arange(10))  # the parent's too
    finally:
        INDEXES.clear()
