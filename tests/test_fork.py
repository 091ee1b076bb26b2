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


def _write_in_child(_):
    index = INDEXES["written"]
    found = index.search(ROWS[:16], k=1)[1][:, 0]
    try:
        index.add(ROWS[:10] + 10.0, ids=np.arange(100000, 100010))
        return "wrote", found.tolist()
    except OSError as error:
        return str(error), found.tolist()


def test_a_forked_child_does_not_write_its_parents_spann_posting_file(tmp_path):
    # The child shares the parent's open posting file and its lock: both writing it would place
    # lists in the same pages.
    index = vidx.Index(DIM, kind="spann", threads=2, path=str(tmp_path / "p.post"))
    index.add(ROWS, progress=False)
    index.add(ROWS[:20] + 5.0, ids=np.arange(50000, 50020))  # the parent has written: it holds the file
    INDEXES["written"] = index
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            message, found = pool.map_async(_write_in_child, [0]).get(timeout=120)[0]
        assert "forked" in message and found == list(range(16))
        index.add(ROWS[:20] + 7.0, ids=np.arange(60000, 60020))  # the parent still writes
        assert len(index) == len(ROWS) + 40
    finally:
        INDEXES.clear()
