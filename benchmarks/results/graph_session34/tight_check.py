import os, sys, numpy as np
sys.path.insert(0, os.environ.get("PKG", "/tmp/ab/late")); sys.path.insert(0, "/work/main/tests")
import vidx
from conftest import brute_force, recall
N, DIM, CLUSTERS, QUERIES = 8000, 16, 400, 400
rng = np.random.default_rng(5)
centers = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
labels = rng.integers(0, CLUSTERS, N + QUERIES)
both = (centers[labels] + 0.05 * rng.standard_normal((N + QUERIES, DIM))).astype(np.float32)
x, labels, q = both[:N], labels[:N], both[N:]
_, truth = brute_force(x, q, 10, "l2")
for name, order in {"natural": np.arange(N), "sorted": np.argsort(labels, kind="stable"), "shuffled": np.random.default_rng(1).permutation(N)}.items():
    r = []
    for s in (0, 1):
        idx = vidx.Index(DIM, M=12, ef_construction=64, seed=s, threads=2); idx.add(x[order], ids=order)
        r.append(recall(idx.search(q, k=10, ef=10)[1], truth))
    xo = x[order]; i = rng.integers(0, N - 1, 2000); j = rng.integers(0, N, 2000)
    loc = np.median(((xo[i] - xo[i + 1]) ** 2).sum(1)) / np.median(((xo[i] - xo[j]) ** 2).sum(1))
    print(name, "recall", np.round(r, 4), "locality %.4f" % loc)
