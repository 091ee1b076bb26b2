import os
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx, time
from conftest import brute_force, recall
spread = float(sys.argv[1]); n_docs, per_doc, dim, step = 5000, 20, 64, 2000
from feeds import documents
x, lab, q, ql, centres = documents(spread)
_, gt = brute_force(x, q, 10, "l2")
efs = [10, 20, 40]; rs = []; ts = []
for seed in (0, 1):
    idx = vidx.Index(dim, "l2", M=16, seed=seed, threads=2)
    t = time.perf_counter()
    for s in range(0, len(x), step): idx.add(x[s:s+step], progress=False)
    ts.append(time.perf_counter() - t)
    rs.append([recall(idx.search(q, 10, ef=e)[1], gt) for e in efs])
print(f"spread {spread} build {np.mean(ts):.2f}s", " ".join(f"ef{e} {v:.4f}" for e, v in zip(efs, np.mean(rs, 0))))
