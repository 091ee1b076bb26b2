import sys, time, h5py, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
n = int(sys.argv[2]); ef = int(sys.argv[3])
with h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5") as f:
    X = f["train"][:n]; Q = f["test"][:3000]
idx = vidx.Index(dim=384, metric="cosine", kind="hnsw", seed=0); idx.add(X); idx.threads = 1
best = 1e9
for rep in range(int(sys.argv[4]) if len(sys.argv) > 4 else 5):
    t = time.perf_counter()
    for q in Q: idx.search(q[None], k=10, ef=ef)
    best = min(best, time.perf_counter() - t)
print(f"n {n} ef {ef} us/query {best / len(Q) * 1e6:.2f}")
