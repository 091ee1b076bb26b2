import time, numpy as np, vidx, sys
dim = int(sys.argv[1]) if len(sys.argv) > 1 else 384
rng = np.random.default_rng(0); X = rng.standard_normal((20, dim)).astype(np.float32)
idx = vidx.Index(dim, metric="cosine", kind="hnsw", M=16, ef_construction=40, seed=0, threads=1); idx.add(X)
Q = np.repeat(X, 100, axis=0) + 0.01
t = time.perf_counter()
for r in range(100):
    for q in Q: idx.search(q, 10, 10)
print((time.perf_counter() - t) / (100 * len(Q)) * 1e6, "us")
