import time, numpy as np, vidx, h5py, os
with h5py.File(os.path.expanduser("~/.cache/vidx/fashion-mnist-784-euclidean.hdf5")) as f: X = f["train"][:]; Q = f["test"][:2000]
rng = np.random.default_rng(0); H = X[rng.choice(len(X), 3468, replace=False)]
idx = vidx.Index(784, metric="l2", kind="hnsw", M=16, ef_construction=200, seed=0, threads=2); idx.add(H)
best = []
for r in range(5):
    t = time.perf_counter()
    for q in Q: idx.search(q, 8, 64)
    best.append((time.perf_counter() - t) / len(Q) * 1e6)
print("head search us/query", round(min(best), 2), round(sorted(best)[2], 2))
