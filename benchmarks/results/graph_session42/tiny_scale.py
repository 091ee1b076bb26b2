# Recall@10 of HNSW and flat at several data scales (Gaussian blobs), every quant given.
import sys, numpy as np, vidx
quants = sys.argv[1].split(",")
rng = np.random.default_rng(0)
c = rng.standard_normal((40, 32)).astype(np.float32)
x0 = (c[rng.integers(0, 40, 20000)] + 0.5 * rng.standard_normal((20000, 32))).astype(np.float32)
q0 = (c[rng.integers(0, 40, 300)] + 0.5 * rng.standard_normal((300, 32))).astype(np.float32)
d = ((q0.astype(np.float64)[:, None, :] - x0[None].astype(np.float64)) ** 2).sum(-1)
truth = np.argsort(d, 1)[:, :10]
for kind in sys.argv[2].split(","):
    for quant in quants:
        row = []
        for scale in (1.0, 1e-3, 1e-4, 1e-5, 1e-6):
            x, q = x0 * np.float32(scale), q0 * np.float32(scale)
            idx = vidx.Index(32, "l2", kind=kind, quant=quant, seed=1, threads=2)
            idx.add(x, progress=False)
            _, I = idx.search(q, 10, ef=64) if kind == "hnsw" else idx.search(q, 10)
            row.append(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, truth)]))
        print(f"{kind:5s} {quant:10s} " + "  ".join(f"{s:g}:{r:.3f}" for s, r in zip((1.0, 1e-3, 1e-4, 1e-5, 1e-6), row)), flush=True)
