"""Helpers of the review's scripts (graph.md section 55): graphs read from an index's bytes, and the feed that left
copy groups of relearnt 1-bit codes unreachable."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
from conftest import hnsw_graph, reachable_slots  # noqa: E402
from test_copies import documents_with_boilerplate  # noqa: E402
from test_corruption import section_bytes  # noqa: E402
from test_row_order import documents_of_chunks  # noqa: E402


# The graph read from an index's bytes, and the slots reachable from its entry point (tests/conftest.py).
graph, reachable = hnsw_graph, reachable_slots


def slot_ids(idx):
    return np.frombuffer(section_bytes(idx.to_bytes(), b"IDS_"), dtype=np.int64)


COPIES = 3  # copies of a boilerplate vector in every add
FIRST_COPY_ID = len(documents_of_chunks(9, documents=500)[0])  # copy ids follow the chunks' (tests/test_copies.py)


def binary_copies_index(vidx, seed, quant="binary", trained=False, after_add=None):
    """A fresh index (l2, M=8, ef_construction 64) fed 500 documents of chunks one a call, each add also holding 3
    copies of one of two boilerplate vectors (750 copies each; tests/test_copies.py's feed). trained: a first add of
    6,000 other rows trains the codec, so it never learns again. after_add(i, idx) is called after each document.
    Returns (idx, boilerplate)."""
    idx = None
    if trained:
        idx = vidx.Index(32, "l2", M=8, ef_construction=64, seed=seed, threads=2, quant=quant)
        pre = np.random.default_rng(99).standard_normal((6000, 32)).astype(np.float32) * 1.3
        idx.add(pre, ids=np.arange(500000, 506000), progress=False)
    idx, _, boiler = documents_with_boilerplate(quant, seed, index=idx, after_add=after_add)
    return idx, boiler


def first_group(sid):
    """Slots of the first boilerplate vector's copies."""
    return [s for s in range(len(sid)) if FIRST_COPY_ID <= sid[s] < 500000 and ((sid[s] - FIRST_COPY_ID) // COPIES) % 2 == 0]
