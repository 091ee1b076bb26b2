"""Flat 1-bit indexes, automatic rerank: recall@10 (cosine brute force) and batch QPS on glove6b-50's
first ROWS rows, 1,000 test queries, one thread.   PYTHONPATH=<package> python flat_rerank_ab.py ROWS"""
import sys, time
import numpy as np
import vidx
from vidx import datasets
rows = int(sys.argv[1])
d = datasets.load("glove6b-50-angular")
X = np.asarray(d.train, np.float32)[:rows]; Q = np.asarray(d.test, np.float32)[:1000]
Xn = X / np.linalg.norm(X, axis=1, keepdims=True); Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
truth = np.argsort(-(Qn @ Xn.T), axis=1)[:, :10]
for quant in ("binary", "rabitq", "lvq4x8"):
    idx = vidx.Index(50, "cosine", kind="flat", quant=quant, threads=1)
    idx.add(X)
    I = idx.search(Q, 10)[1]
    r = np.mean([len(set(a) & set(t)) / 10 for a, t in zip(I.tolist(), truth.tolist())])
    times = []
    for rep in range(3):
        t = time.perf_counter(); idx.search(Q, 10); times.append(time.perf_counter() - t)
    print(f"flat {quant}: recall {r:.4f}, QPS {len(Q) / sorted(times)[1]:.0f}")
