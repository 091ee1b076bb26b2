"""Recall@10 of 1-bit codes for queries near the data's mean against Gaussian queries (64-d Gaussians,
2,000 rows, l2, 50 queries of each; HNSW at ef 400), for the package on PYTHONPATH. From review 2 of
the forty-seventh session (graph.md section 47); the README quotes its output.

    PYTHONPATH=<package> python binary_near_mean.py"""
import numpy as np, vidx
rng = np.random.default_rng(0)
dim = 64
X = rng.standard_normal((2000, dim)).astype(np.float32)
Qs = {"random": rng.standard_normal((50, dim)).astype(np.float32),
      "near-mean": (X.mean(0) + 0.05 * rng.standard_normal((50, dim))).astype(np.float32)}
for kind in ["flat", "hnsw"]:
    for quant in ["binary", "binary_rot", "rabitq", "lvq4"]:
        idx = vidx.Index(dim, "l2", kind=kind, quant=quant); idx.add(X)
        out = []
        for name, Q in Qs.items():
            D, I = idx.search(Q, 10, **({"ef": 400} if kind == "hnsw" else {}))
            gt = np.argsort(((Q[:, None].astype(np.float64) - X[None]) ** 2).sum(-1), 1)[:, :10]
            out.append(f"{name} recall@10 {np.mean([len(set(gt[i]) & set(I[i])) / 10 for i in range(len(Q))]):.2f}")
        print(f"{kind:5s} {quant:10s}: " + ", ".join(out))
