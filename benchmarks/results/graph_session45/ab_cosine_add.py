"""Add time and memory of cosine indexes, this session's code (keeps lengths) against the session's
start: glove6b-50 (natural order). Prints one line per (kind, rows): seconds of add, memory_usage,
and the "norms" part. Run for each package in turn, alternating:
    PYTHONPATH=<package> python ab_cosine_add.py"""
import time
import numpy as np
import vidx
from vidx import datasets

X = np.asarray(datasets.load("glove6b-50-angular").train, np.float32)
for kind, rows in (("flat", 390000), ("hnsw", 100000)):
    idx = vidx.Index(50, "cosine", kind=kind, threads=2)
    t = time.perf_counter()
    idx.add(X[:rows], progress=False)
    s = time.perf_counter() - t
    parts = idx.memory_breakdown()
    print(f"{kind} {rows}: add {s:.3f} s, memory {idx.memory_usage()} B, norms {parts.get('norms', 0)} B")
