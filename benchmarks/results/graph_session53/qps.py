import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, vidx
from conftest import brute_force, recall
from feeds import documents
x, lab, q, ql, c = documents(float(sys.argv[1]))
_, gt = brute_force(x, q, 10, "l2")
idxs = {p: vidx.load(p) for p in sys.argv[2:]}
for i in idxs.values(): i.threads = 1
efs = [10, 12, 16, 20, 24, 32, 40, 48, 64]
res = {p: {e: [] for e in efs} for p in idxs}
rec = {p: {} for p in idxs}
for rnd in range(5):
    for e in efs:
        for p, i in idxs.items():
            I = i.search(q, 10, ef=e)[1]; rec[p][e] = recall(I, gt)
            t = time.perf_counter()
            for j in range(len(q)): i.search(q[j:j+1], 10, ef=e)
            res[p][e].append(len(q) / (time.perf_counter() - t))
for p in idxs:
    r = np.array([rec[p][e] for e in efs]); qs = np.array([np.median(res[p][e]) for e in efs])
    at = {t: (np.interp(t, r, qs) if r[0] <= t <= r[-1] else float("nan")) for t in (0.85, 0.9, 0.95, 0.98)}
    print(p, " ".join(f"ef{e}:{rr:.3f}/{qq:.0f}" for e, rr, qq in zip(efs, r, qs)), "| QPS at", " ".join(f"{t}:{v:.0f}" for t, v in at.items()))
