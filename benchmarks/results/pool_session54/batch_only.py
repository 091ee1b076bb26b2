"""Batch search only, on a saved index: python batch_only.py INDEX_FILE  (prints QPS with threads=2, then
with threads=1 as a control the crew plays no part in: medians of 15 calls each).
Made by `python batch_only.py --save INDEX_FILE` (glove6b-50's first 100,000 rows, HNSW defaults)."""
import statistics
import sys
import time

import numpy as np

import vidx
from vidx.datasets import load

ds = load("glove6b-50-angular")
q = np.ascontiguousarray(ds.test[:1000], dtype=np.float32)
if sys.argv[1] == "--save":
    idx = vidx.Index(50, metric="cosine", kind="hnsw", threads=2, seed=1)
    idx.add(np.ascontiguousarray(ds.train[:100_000], dtype=np.float32))
    idx.save(sys.argv[2])
    sys.exit()
idx = vidx.load(sys.argv[1])
def qps(threads):
    idx.threads = threads
    idx.search(q, 10, ef=64)
    times = []
    for _ in range(15):
        t = time.perf_counter()
        idx.search(q, 10, ef=64)
        times.append(time.perf_counter() - t)
    return len(q) / statistics.median(times)


print(f"{qps(2):.0f} {qps(1):.0f}")
