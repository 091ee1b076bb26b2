"""Helpers of the review's scripts (graph.md section 55): graphs read from an index's bytes, and the feed that left
copy groups of relearnt 1-bit codes unreachable."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
from test_copies import hnsw_graph, reachable_slots  # noqa: E402
from test_corruption import section_bytes  # noqa: E402
from test_row_order import documents_of_chunks  # noqa: E402


# The graph read from an index's bytes, and the slots reachable from its entry point (tests/test_copies.py).
graph, reachable = hnsw_graph, reachable_slots


def slot_ids(idx):
    return np.frombuffer(section_bytes(idx.to_bytes(), b"IDS_"), dtype=np.int64)


COPIES = 3  # copies of a boilerplate vector in every add
FIRST_COPY_ID = 100000


def binary_copies_index(vidx, seed, quant="binary", trained=False, after_add=None):
    """A fresh index (l2, M=8, ef_construction 64) fed 500 documents of chunks one a call, each add also holding 3
    copies of one of two boilerplate vectors (750 copies each). trained: a first add of 6,000 other rows trains the
    codec, so it never learns again. after_add(i, idx) is called after each document. Returns (idx, boilerplate)."""
    x, document, _ = documents_of_chunks(9, documents=500)
    rng = np.random.default_rng(seed)
    boiler = rng.standard_normal((2, 32)).astype(np.float32)
    idx = vidx.Index(32, "l2", M=8, ef_construction=64, seed=seed, threads=2, quant=quant)
    if trained:
        pre = np.random.default_rng(99).standard_normal((6000, 32)).astype(np.float32) * 1.3
        idx.add(pre, ids=np.arange(500000, 506000), progress=False)
    nid = FIRST_COPY_ID
    for i, rows in enumerate(np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1)):
        v = np.concatenate([x[rows], np.repeat(boiler[i % 2][None], COPIES, 0)])
        ids = np.concatenate([rows, np.arange(nid, nid + COPIES)])
        nid += COPIES
        perm = rng.permutation(len(v))
        idx.add(v[perm], ids=ids[perm], progress=False)
        if after_add:
            after_add(i, idx)
    return idx, boiler


def first_group(sid):
    """Slots of the first boilerplate vector's copies."""
    return [s for s in range(len(sid)) if FIRST_COPY_ID <= sid[s] < 500000 and ((sid[s] - FIRST_COPY_ID) // COPIES) % 2 == 0]
