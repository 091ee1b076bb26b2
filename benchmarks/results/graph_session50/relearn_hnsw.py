"""HNSW rabitq fed glove's first 50,000 rows (cosine) in natural order in adds of 1,000, against one shuffled add;
recall@10 at ef 16 / 32 / 64 on 300 of 1,000 spread test queries: python3 relearn_hnsw.py PACKAGE_FOLDER [QUANT]"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import h5py, numpy as np, vidx
quant = sys.argv[2] if len(sys.argv) > 2 else "rabitq"
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    X = np.asarray(f["train"][:50000], dtype=np.float32)
    T = np.asarray(f["test"], dtype=np.float32)
Q = T[np.sort(np.random.default_rng(123).choice(len(T), 1000, replace=False))][:300]
unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)
G = np.argsort(-(unit(Q.astype(np.float64)) @ unit(X.astype(np.float64)).T), axis=1)[:, :10]
def rec(I): return np.mean([len(set(I[i]) & set(G[i])) / 10 for i in range(len(G))])
N = len(X)
for name, perm, step in [("shuffled one add", np.random.default_rng(1000).permutation(N), N), ("natural adds of 1000", np.arange(N), 1000)]:
    idx = vidx.Index(50, "cosine", kind="hnsw", quant=quant, seed=0, threads=2)
    t = time.perf_counter()
    for s in range(0, N, step):
        idx.add(X[perm[s:s + step]], ids=perm[s:s + step])
    build = time.perf_counter() - t
    print(f"{quant} {name}: " + " / ".join(f"{rec(idx.search(Q, 10, ef=ef)[1]):.4f}" for ef in (16, 32, 64)) + f" (build {build:.1f}s)", flush=True)
