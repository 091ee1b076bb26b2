"""The floor of a single-query call (section 33): an index of 12 random rows, k=1, ef=1, so the
walk is trivial and the time is the call, the query's check and setup, and the result arrays;
vidx f32_split and lvq4x4 (cosine, d=384) and hnswlib in one process.

    python call_floor.py PACKAGE_DIR
"""
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx, hnswlib
rng = np.random.default_rng(0)
X = rng.standard_normal((12, 384)).astype(np.float32)
Q = rng.standard_normal((2000, 384)).astype(np.float32)
for quant in ["f32_split", "lvq4x4"]:
    idx = vidx.Index(dim=384, metric="cosine", kind="hnsw", quant=quant); idx.add(X); idx.threads = 1
    ts = []
    for r in range(7):
        t = time.perf_counter()
        for q in Q: idx.search(q, k=1, ef=1)
        ts.append((time.perf_counter() - t) / len(Q) * 1e6)
    print(quant, "us/call", round(float(np.median(ts)), 2))
p = hnswlib.Index("cosine", 384); p.init_index(12, 16, 200); p.add_items(X); p.set_ef(1); p.set_num_threads(1)
ts = []
for r in range(7):
    t = time.perf_counter()
    for q in Q: p.knn_query(q, k=1)
    ts.append((time.perf_counter() - t) / len(Q) * 1e6)
print("hnswlib us/call", round(float(np.median(ts)), 2))
