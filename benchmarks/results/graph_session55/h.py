"""Helpers of the review's scripts (graph.md section 55): graphs read from an index's bytes, and the feed that left
copy groups of relearnt 1-bit codes unreachable."""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
from test_corruption import section_bytes  # noqa: E402
from test_row_order import documents_of_chunks  # noqa: E402


def graph(idx):
    """Every level's lists, the entry point and the levels, from to_bytes."""
    data = idx.to_bytes()
    g = section_bytes(data, b"HNSW")
    count, M, M0 = struct.unpack_from("<QQQ", g)
    entry, _ = struct.unpack_from("<II", g, 24)
    l0 = np.frombuffer(section_bytes(data, b"LNK0"), dtype=np.uint32).reshape(count, -1)
    levels = np.frombuffer(section_bytes(data, b"LVLS"), dtype=np.uint8)
    up = np.frombuffer(section_bytes(data, b"LNKU"), dtype=np.uint32)
    upper, off = {}, 0
    for s in range(count):
        for lv in range(1, levels[s] + 1):
            w = up[off:off + M + 1]
            off += M + 1
            upper[(lv, s)] = w[1:1 + w[0]]
    return dict(count=count, M=M, M0=M0, entry=entry, levels=levels, l0=[l0[s, 1:1 + l0[s, 0]] for s in range(count)],
                upper=upper)


def slot_ids(idx):
    return np.frombuffer(section_bytes(idx.to_bytes(), b"IDS_"), dtype=np.int64)


def reachable(G):
    """Slots reachable from the entry point by the edges of every level (directed)."""
    adj = {}
    for s, l in enumerate(G["l0"]):
        adj.setdefault(s, []).extend(l.tolist())
    for (lv, s), l in G["upper"].items():
        adj.setdefault(s, []).extend(l.tolist())
    seen, stack = {G["entry"]}, [G["entry"]]
    while stack:
        for v in adj.get(stack.pop(), ()):
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


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
