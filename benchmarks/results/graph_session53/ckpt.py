import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, vidx
from conftest import brute_force, recall
from feeds import documents
x, lab, q, ql, c = documents(0.1)
marks = [40000, 60000, 80000, 100000]
truth = {}
for m in marks:
    sel = ql < m // 20
    truth[m] = (q[sel], brute_force(x[:m], q[sel], 10, "l2")[1])
res = {m: [] for m in marks}; ts = []
for seed in (0, 1):
    idx = vidx.Index(64, "l2", M=16, seed=seed, threads=2); t = time.perf_counter()
    for s in range(0, len(x), 2000):
        idx.add(x[s:s+2000], progress=False)
        if s + 2000 in truth:
            qq, gt = truth[s + 2000]; res[s + 2000].append([recall(idx.search(qq, 10, ef=e)[1], gt) for e in (10, 20)])
    ts.append(time.perf_counter() - t)
r = np.array([np.mean(res[m], 0) for m in marks])
print(f"build {np.mean(ts):.2f}s", " ".join(f"{m//1000}k:{a:.3f}/{b:.3f}" for m, (a, b) in zip(marks, r)), f"mean {r[:,0].mean():.4f}/{r[:,1].mean():.4f}")
