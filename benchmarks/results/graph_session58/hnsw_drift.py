"""HNSW (kept float32 vectors unless KEEP=0) fed glove6b-50 (390,000 rows, cosine) in natural order in adds of STEP, against one shuffled add;
recall@10 at ef 16/32/64 on 1,000 spread test queries: python3 hnsw_drift.py PKG QUANT FEED(natural|one)"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import h5py, numpy as np, vidx
quant, feed = sys.argv[2], sys.argv[3]
step = int(os.environ.get("STEP", 10000))
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    X = np.asarray(f["train"], dtype=np.float32); T = np.asarray(f["test"], dtype=np.float32)
    NB = np.asarray(f["neighbors"][:, :10])
sel = np.sort(np.random.default_rng(123).choice(len(T), 1000, replace=False))
Q, G = T[sel], NB[sel]
rec = lambda I: np.mean([len(set(I[i]) & set(G[i])) / 10 for i in range(len(G))])
N = len(X)
perm = np.random.default_rng(1000).permutation(N) if feed == "one" else np.arange(N)
if feed == "one": step = N
idx = vidx.Index(50, "cosine", kind="hnsw", quant=quant, seed=0, threads=2, keep_vectors=os.environ.get("KEEP", "1") == "1")
t = time.perf_counter(); worst = 0
for s in range(0, N, step):
    a = time.perf_counter(); idx.add(X[perm[s:s + step]], ids=perm[s:s + step]); worst = max(worst, time.perf_counter() - a)
build = time.perf_counter() - t
tag = os.environ.get("TAG", "")
print(f"{quant} {feed} {tag}: " + " / ".join(f"{rec(idx.search(Q, 10, ef=ef)[1]):.4f}" for ef in (16, 32, 64)) + f" (build {build:.1f}s, worst add {worst:.2f}s)", flush=True)
