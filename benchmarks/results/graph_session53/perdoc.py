# The documents (5,000 of 20 near-copies, 64-d) fed in document order, ROWS rows an add; recall@10, two seeds.
import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, vidx
from conftest import brute_force, recall
from feeds import documents
x, lab, q, ql, c = documents(0.1)
_, gt = brute_force(x, q, 10, "l2")
step = int(sys.argv[1])
rs, ts = [], []
for seed in (0, 1):
    idx = vidx.Index(64, "l2", M=16, seed=seed, threads=2); t = time.perf_counter()
    for s in range(0, len(x), step): idx.add(x[s:s+step], progress=False)
    ts.append(time.perf_counter() - t)
    rs.append([recall(idx.search(q, 10, ef=e)[1], gt) for e in (10, 20, 40)])
print(f"adds of {step} build {np.mean(ts):.2f}s", " ".join(f"ef{e} {v:.4f}" for e, v in zip((10, 20, 40), np.mean(rs, 0))))
