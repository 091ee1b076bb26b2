"""Groups of distinct rows whose heads collide: G base vectors, each with R near-duplicates
(noise eps: f32_split's lower halves, lvq4x8's 4-bit cells). Queries near a group; truth exact.
neardup.py quant eps addsize metric"""
import os, sys, json
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
quant, eps, size, metric = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
dim, R = 32, int(os.environ.get("R", 10)); G = 15000 // R
out = []
for seed in range(3):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((G, dim)).astype(np.float32)
    X = (np.repeat(base, R, 0) + eps * rng.standard_normal((G * R, dim))).astype(np.float32)
    perm = rng.permutation(len(X)) if size == 0 else np.arange(len(X))  # size>0: a group's rows arrive together
    Q = (base[rng.integers(0, G, 300)] + eps * rng.standard_normal((300, dim))).astype(np.float32)
    idx = vidx.Index(dim, metric, quant=quant, M=int(os.environ.get("M", 8)), ef_construction=64, seed=seed, threads=2)
    if size == 0: idx.add(X[perm], ids=perm, progress=False)
    else:
        for i in range(0, len(X), size): idx.add(X[i:i + size], ids=np.arange(i, min(len(X), i + size)), progress=False)
    T = truth(X, Q, 10, metric)
    H = heads(idx); _, counts = np.unique(H, axis=0, return_counts=True)
    g, reach, dups, selfl = graph_stats(idx)
    out.append([recall(idx.search(Q, k=10, ef=ef)[1], T) for ef in (10, 20, 50)] + [len(reach) / len(idx), counts.max(), len(counts)])
o = np.mean(out, 0)
print(PKG, quant, "eps", eps, "adds", size, metric, "recall@10 ef10/20/50 %.4f %.4f %.4f reach %.4f biggest head group %.0f heads %.0f" % tuple(o), flush=True)
