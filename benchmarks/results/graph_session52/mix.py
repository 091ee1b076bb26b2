import os
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx, time
from conftest import brute_force, recall
from feeds import mixture
x, q = mixture()
n, d = x.shape
_, gt = brute_force(x, q, 10, "l2")
efs = [16, 32, 64]
step = int(sys.argv[1])
for name, order in [("sorted", np.arange(n)), ("shuffled", np.random.default_rng(3).permutation(n))]:
    rs = []; ts = []
    for seed in (0, 1):
        idx = vidx.Index(d, "l2", seed=seed, threads=2)
        t = time.perf_counter()
        for s in range(0, n, step): idx.add(x[order[s:s+step]], ids=order[s:s+step], progress=False)
        ts.append(time.perf_counter() - t)
        rs.append([recall(idx.search(q, 10, ef=e)[1], gt) for e in efs])
    print(f"mixture adds of {step} {name:8s} build {np.mean(ts):.2f}s", " ".join(f"ef{e} {v:.4f}" for e, v in zip(efs, np.mean(rs, 0))), flush=True)
