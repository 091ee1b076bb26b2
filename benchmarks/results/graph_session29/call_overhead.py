import sys, time, numpy as np
sys.path.insert(0, "/tmp/ab/m29")
import vidx, hnswlib
rng = np.random.default_rng(0)
dim=384
X = rng.standard_normal((12, dim)).astype(np.float32)
Q = rng.standard_normal((5000, dim)).astype(np.float32)
v = vidx.Index(dim=dim, metric="cosine", kind="hnsw"); v.add(X); v.threads = 1
core = v._impl
h = hnswlib.Index("cosine", dim); h.init_index(20, 16, 200); h.add_items(X); h.set_num_threads(1); h.set_ef(1)
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
for rep in range(reps):
    t = time.perf_counter()
    for q in Q: v.search(q[None], k=1, ef=1)
    tv = (time.perf_counter() - t) / len(Q) * 1e6
    t = time.perf_counter()
    for q in Q: core.search(q[None], 1, 1, None, None, None, None)
    tc = (time.perf_counter() - t) / len(Q) * 1e6
    t = time.perf_counter()
    for q in Q: h.knn_query(q[None], k=1)
    th = (time.perf_counter() - t) / len(Q) * 1e6
    t = time.perf_counter()
    for q in Q: q[None]
    tn = (time.perf_counter() - t) / len(Q) * 1e6
    if reps < 10: print(f"vidx {tv:.2f} us core {tc:.2f} hnswlib {th:.2f} us loop {tn:.2f}")
