import sys; sys.path.insert(0, sys.argv[1])
import numpy as np, vidx, time
rng = np.random.default_rng(0)
n, d, C = 24000, 32, 48
centres = rng.standard_normal((C, d)).astype(np.float32) * 2 + np.linspace(-3, 3, C)[:, None].astype(np.float32)
lab = np.sort(rng.integers(0, C, n))
x = (centres[lab] + rng.standard_normal((n, d)).astype(np.float32)).astype(np.float32)
q = (centres[rng.integers(0, C, 300)] + rng.standard_normal((300, d)).astype(np.float32)).astype(np.float32)
d2 = ((q[:, None, :].astype(np.float64) - x[None].astype(np.float64)) ** 2).sum(-1)
gt = np.argsort(d2, axis=1)[:, :10]
def recall(I): return np.mean([len(set(I[i]) & set(gt[i])) / 10 for i in range(len(q))])
for quant in ["rabitq", "binary"]:
    out = []
    for name, order, step in [("shuffled one add", rng.permutation(n), n), ("sorted adds of 1000", np.arange(n), 1000)]:
        idx = vidx.Index(d, "l2", kind="flat", quant=quant, threads=1)
        t = time.perf_counter()
        for s in range(0, n, step): idx.add(x[order[s:s+step]], ids=order[s:s+step])
        out.append(f"{name} {recall(idx.search(q, 10)[1]):.3f} ({time.perf_counter()-t:.2f}s)")
    print(quant, " | ".join(out))
