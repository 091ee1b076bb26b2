"""Threads a process holds: 200 HNSW indexes of threads=4 made, then 20 of them added to and searched
(PYTHONPATH = the package to measure). Printed: threads beyond those before the first index."""
import os, sys, time, threading
import numpy as np
import vidx
def tasks(): return len(os.listdir('/proc/self/task'))
t0 = tasks()
x = np.random.default_rng(0).standard_normal((2000, 16)).astype(np.float32)
idxs = []
for i in range(200):
    idx = vidx.Index(16, kind="hnsw", threads=4, seed=1)
    idxs.append(idx)
print("after 200 empty indexes:", tasks() - t0)
for idx in idxs[:20]:
    idx.add(x[:500]); idx.search(x[:100], 5)
print("after 20 adds+searches:", tasks() - t0)
