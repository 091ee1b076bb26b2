# Flat lossy codecs fed glove's first 50,000 rows (cosine) in natural order in adds, against one shuffled add.
# python3 relearn_feeds.py PACKAGE_FOLDER [QUANT ...]
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, vidx
import h5py, os
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    X = np.asarray(f["train"][:50000], dtype=np.float32)
    T = np.asarray(f["test"], dtype=np.float32)  # 1,000 spread test queries drawn as the row-order review drew them
    Q = T[np.sort(np.random.default_rng(123).choice(len(T), 1000, replace=False))][:300]
unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)
G = np.argsort(-(unit(Q.astype(np.float64)) @ unit(X.astype(np.float64)).T), axis=1)[:, :10]  # exact cosine top-10
N = len(X)
def rec(I): return np.mean([len(set(I[i]) & set(G[i])) / 10 for i in range(len(G))])
def build(q, step, perm, kind="flat"):
    idx = vidx.Index(50, "cosine", kind=kind, quant=q, seed=0, threads=1)
    t = time.process_time()
    for s in range(0, N, step or N):
        part = perm[s:s + (step or N)]
        idx.add(X[part], ids=part)
    return rec(idx.search(Q, 10)[1]), time.process_time() - t
nat = np.arange(N); shuf = np.random.default_rng(1000).permutation(N)
for q in sys.argv[2:] or ["rabitq", "binary", "lvq4", "lvq8"]:
    out = []
    for name, step, perm in [("shuffled one add", 0, shuf), ("shuffled adds of 1000", 1000, shuf), ("natural adds of 1000", 1000, nat), ("natural adds of 10000", 10000, nat)]:
        r, t = build(q, step, perm)
        out.append(f"{name} {r:.4f} ({t:.1f}s)")
    print(f"{q:7s} " + " | ".join(out), flush=True)
