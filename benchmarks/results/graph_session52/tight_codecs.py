import os
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx, time
from conftest import brute_force, recall
from feeds import tight_clusters
x, labels, q, _, _ = tight_clusters()
N, DIM = x.shape
srt = np.argsort(labels, kind="stable"); shf = np.random.default_rng(1).permutation(N)
for metric in ["l2", "cosine", "ip"]:
    xx, qq = (x, q)
    if metric != "l2":
        xx = x / np.linalg.norm(x, axis=1, keepdims=True); qq = q / np.linalg.norm(q, axis=1, keepdims=True)
    _, truth = brute_force(xx, qq, 10, "l2")
    for quant in ["f32_split", "lvq8", "lvq4x4", "rabitq"]:
        if metric != "l2" and quant not in ("f32_split", "lvq8"): continue
        row = []
        for name, order in (("sorted", srt), ("shuffled", shf)):
            rs = []; ts = []
            for seed in (0, 1):
                idx = vidx.Index(DIM, metric, quant=quant, seed=seed, threads=2)
                t = time.perf_counter()
                for part in np.array_split(order, N // 400): idx.add(xx[part], ids=part, progress=False)
                ts.append(time.perf_counter() - t)
                rs.append([recall(idx.search(qq, k=10, ef=e)[1], truth) for e in (10, 32)])
            m = np.mean(rs, 0); row.append(f"{name} {m[0]:.4f}/{m[1]:.4f} ({np.mean(ts):.2f}s)")
        print(metric, quant, " | ".join(row), flush=True)
