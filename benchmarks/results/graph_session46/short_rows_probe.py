"""Recall@10 of flat and HNSW indexes of one quant on 5,000 Gaussian rows (32-d) scaled by 1 .. 1e5, under
l2 and ip, against float64 brute force. Used for the forty-sixth session's short-row figures (graph.md
section 46): run with the package before and after the row scale.
    PYTHONPATH=<package> python short_rows_probe.py QUANT flat,hnsw"""
import numpy as np, vidx
import sys
QUANT = sys.argv[1]
KINDS = sys.argv[2].split(",")
rng = np.random.default_rng(0)
X = rng.standard_normal((5000, 32)).astype(np.float32)
Q = X[:200] + 0.05 * rng.standard_normal((200, 32)).astype(np.float32)
def truth(X, Q):
    d = (Q**2).sum(1)[:, None] - 2 * Q @ X.T + (X**2).sum(1)[None]
    return np.argsort(d, 1)[:, :10]
for scale in (1.0, 1e-3, 1e-5, 1e-7, 1e3, 1e5):
    Xs, Qs = X * np.float32(scale), Q * np.float32(scale)
    T = truth(Xs.astype(np.float64), Qs.astype(np.float64))
    for kind in KINDS:
        for metric in ("l2", "ip"):
            try:
                idx = vidx.Index(32, metric, kind=kind, quant=QUANT)
                idx.add(Xs)
                D, I = idx.search(Qs, 10)
                if metric == "l2":
                    r = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, T)])
                else:
                    Ti = np.argsort(-(Qs.astype(np.float64) @ Xs.T.astype(np.float64)), 1)[:, :10]
                    r = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, Ti)])
                print(f"scale {scale:g} {kind} {metric}: recall {r:.3f}")
            except Exception as e:
                print(f"scale {scale:g} {kind} {metric}: {type(e).__name__}: {str(e)[:100]}")
