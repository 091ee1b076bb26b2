import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx
from conftest import brute_force, recall
N, DIM, C, Q = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 400
spread, chunk, ef = float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rng = np.random.default_rng(5)
centers = rng.standard_normal((C, DIM)).astype(np.float32)
labels = rng.integers(0, C, N + Q)
both = (centers[labels] + spread * rng.standard_normal((N + Q, DIM))).astype(np.float32)
x, labels, q = both[:N], labels[:N], both[N:]
_, truth = brute_force(x, q, 10, "l2")
out = []
for name, order in (("sorted", np.argsort(labels, kind="stable")), ("shuffled", np.random.default_rng(1).permutation(N))):
    rs = []
    for seed in (0, 1):
        idx = vidx.Index(DIM, M=12, ef_construction=64, seed=seed, threads=2)
        for part in np.array_split(order, N // chunk):
            idx.add(x[part], ids=part, progress=False)
        rs.append(recall(idx.search(q, k=10, ef=ef)[1], truth))
    out.append(f"{name} {np.mean(rs):.4f}")
print(sys.argv[1:], " ".join(out), flush=True)
