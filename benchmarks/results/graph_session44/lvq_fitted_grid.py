# Flat LVQ recall@10 (and HNSW lvq8 at M=16 on glove), run once with each package: PYTHONPATH=<package copy> python3 lvq_fitted_grid.py
import os, sys, numpy as np, vidx
from vidx import datasets
def exact(X, Q, metric, k=10):
    if metric == "cosine":
        X = X / np.linalg.norm(X, axis=1, keepdims=True); Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    if metric in ("cosine", "ip"):
        return np.argsort(-(Q @ X.T), axis=1)[:, :k]
    d = (Q**2).sum(1)[:, None] - 2 * Q @ X.T + (X**2).sum(1)[None]
    return np.argsort(d, axis=1)[:, :k]
def rec(I, gt): return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, gt)])
sets = []
rng = np.random.default_rng(0)
for name, n, metric in [("glove6b-50-angular", 100000, "cosine"), ("wordnet-minilm-384-angular", 50000, "cosine"),
                        ("fashion-mnist-784-euclidean", 60000, "l2")]:
    ds = datasets.load(name, download=False)
    sets.append((name, ds.train[:n].astype(np.float32), ds.test[:500].astype(np.float32), metric))
g = rng.standard_normal((50000, 33)).astype(np.float32); gq = rng.standard_normal((500, 33)).astype(np.float32)
sets.append(("gauss33", g, gq, "cosine"))
sets.append(("gauss33-l2", g, gq, "l2"))
sets.append(("gauss33-ip", g, gq, "ip"))
out = []
for name, X, Q, metric in sets:
    gt = exact(X, Q, metric)
    line = f"{name:28s} {metric:6s}"
    for quant in ("lvq4", "lvq8"):
        idx = vidx.Index(X.shape[1], metric, kind="flat", quant=quant, threads=2)
        idx.add(X)
        line += f" flat {quant} {rec(idx.search(Q, 10)[1], gt):.4f}"
    if name.startswith("glove"):
        idx = vidx.Index(X.shape[1], metric, kind="hnsw", quant="lvq8", threads=2, M=16)
        idx.add(X, progress=False)
        for ef in (16, 32, 64):
            line += f" hnsw lvq8 ef{ef} {rec(idx.search(Q, 10, ef=ef)[1], gt):.4f}"
    print(line, flush=True)
