import time, numpy as np, hnswlib, vidx, sys
dim = int(sys.argv[1]) if len(sys.argv) > 1 else 384
rng = np.random.default_rng(0); X = rng.standard_normal((int(sys.argv[2]) if len(sys.argv) > 2 else 2000, dim)).astype(np.float32); Q = np.repeat(X[:20], 100, axis=0) + 0.01
idx = vidx.Index(dim, metric="cosine", kind="hnsw", M=16, ef_construction=40, seed=0, threads=1); idx.add(X)
h = hnswlib.Index("cosine", dim); h.init_index(2000, M=16, ef_construction=40); h.add_items(X); h.set_ef(10); h.set_num_threads(1)
def tv():
    t = time.perf_counter()
    for q in Q: idx.search(q[None], 10, 10)
    return (time.perf_counter() - t) / len(Q) * 1e6
def th():
    t = time.perf_counter()
    for q in Q: h.knn_query(q[None], 10)
    return (time.perf_counter() - t) / len(Q) * 1e6
for r in range(5): print(f"vidx {tv():.2f} us  hnswlib {th():.2f} us")
