# Flat LVQ under cosine on offset data: recall of the index, and of its own decoded rows scored normalised.
import sys, numpy as np, vidx
rng = np.random.default_rng(0)
def exact(X, Q):
    X = X / np.linalg.norm(X, axis=1, keepdims=True); Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    return np.argsort(-(Q @ X.T), axis=1)[:, :10]
def rec(I, gt): return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, gt)])
for dim, offset in ((33, 0.0), (33, 1.0), (33, 3.0), (128, 3.0)):
    X = (rng.standard_normal((20000, dim)) + offset).astype(np.float32)
    Q = (rng.standard_normal((300, dim)) + offset).astype(np.float32)
    gt = exact(X, Q)
    line = f"dim {dim} offset {offset}:"
    for quant in ("lvq4", "lvq8"):
        idx = vidx.Index(dim, "cosine", kind="flat", quant=quant); idx.add(X)
        D = idx.get(np.arange(len(X)))[0].astype(np.float64)
        Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        raw = np.argsort(-(Qn @ D.T), axis=1)[:, :10]
        normed = np.argsort(-(Qn @ (D / np.linalg.norm(D, axis=1, keepdims=True)).T), axis=1)[:, :10]
        line += f" {quant} index {rec(idx.search(Q, 10)[1], gt):.4f} decoded {rec(raw, gt):.4f} decoded-normalised {rec(normed, gt):.4f} |"
    print(line, flush=True)
