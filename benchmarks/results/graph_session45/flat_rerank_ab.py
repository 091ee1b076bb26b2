"""Flat 1-bit indexes, automatic rerank: recall@10 (cosine brute force) and batch QPS on glove6b-50's
first ROWS rows, 1,000 test queries, one thread.   PYTHONPATH=<package> python flat_rerank_ab.py ROWS"""
import sys, time
import vidx
from glove_prefix import glove_prefix, recall_at_10
rows = int(sys.argv[1])
X, Q, truth = glove_prefix(rows, 1000)
for quant in ("binary", "rabitq", "lvq4x8"):
    idx = vidx.Index(50, "cosine", kind="flat", quant=quant, threads=1)
    idx.add(X)
    I = idx.search(Q, 10)[1]
    r = recall_at_10(I, truth)
    times = []
    for rep in range(3):
        t = time.perf_counter(); idx.search(Q, 10); times.append(time.perf_counter() - t)
    print(f"flat {quant}: recall {r:.4f}, QPS {len(Q) / sorted(times)[1]:.0f}")
