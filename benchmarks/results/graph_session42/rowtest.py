import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx
from conftest import brute_force, recall, clustered
N, DIM, CLUSTERS, QUERIES, EF = 8000, 16, 400, 400, 10
rng = np.random.default_rng(5)
centers = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
labels = rng.integers(0, CLUSTERS, N + QUERIES)
both = (centers[labels] + 0.05 * rng.standard_normal((N + QUERIES, DIM))).astype(np.float32)
x, labels, q = both[:N], labels[:N], both[N:]
_, truth = brute_force(x, q, 10, "l2")
for chunk in (160, 400, 1000):
    for name, order in (("sorted", np.argsort(labels, kind="stable")), ("shuffled", np.random.default_rng(1).permutation(N))):
        rs = []
        for seed in (0, 1):
            idx = vidx.Index(DIM, M=12, ef_construction=64, seed=seed, threads=2)
            for part in np.array_split(order, N // chunk):
                idx.add(x[part], ids=part, progress=False)
            rs.append(recall(idx.search(q, k=10, ef=EF)[1], truth))
        print(chunk, name, rs, flush=True)
