import os, sys, time, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/main"))  # a private copy of the built package
import vidx, hnswlib
rng = np.random.default_rng(0)
X = rng.random((2000, 4), dtype=np.float32); Q = rng.random((2000, 4), dtype=np.float32)
v = vidx.Index(4, M=16, threads=1); v.add(X); v.threads = 1
h = hnswlib.Index("l2", 4); h.init_index(2000, 16, 200); h.add_items(X); h.set_num_threads(1); h.set_ef(10)
core = v._impl
def t(f, reps=5):
    best = []
    for _ in range(reps):
        s = time.perf_counter()
        for q in Q: f(q)
        best.append((time.perf_counter() - s) / len(Q) * 1e6)
    return np.median(best)
for _ in range(2):
    print("vidx Index.search   %.2f us" % t(lambda q: v.search(q, k=10, ef=10)))
    print("vidx _core.search   %.2f us" % t(lambda q: core.search(q, 10, 10, None, None, None, None)))
    print("hnswlib knn_query   %.2f us" % t(lambda q: h.knn_query(q, k=10)))
