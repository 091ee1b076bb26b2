# Per-call floor: one-query searches on a small HNSW index, and len() (a call that releases the GIL).
import sys, time
import numpy as np
import vidx
rng = np.random.default_rng(0)
X = rng.standard_normal((2000, 16)).astype(np.float32)
idx = vidx.Index(16, threads=1)
idx.add(X, progress=False)
q = X[:1000]
best = 1e9; bestlen = 1e9
for rep in range(7):
    t = time.perf_counter()
    for i in range(1000):
        idx.search(q[i], k=10)
    best = min(best, (time.perf_counter() - t) / 1000)
    t = time.perf_counter()
    for i in range(20000):
        len(idx)
    bestlen = min(bestlen, (time.perf_counter() - t) / 20000)
print(f"{sys.argv[1]} search_us {best*1e6:.3f} len_us {bestlen*1e6:.3f}")
