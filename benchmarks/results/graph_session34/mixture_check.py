import os, sys, numpy as np
sys.path.insert(0, os.environ.get("PKG", "/tmp/ab/late")); sys.path.insert(0, "/work/main/tests")
import vidx
from conftest import brute_force, recall
n, d = 20000, 32
rng = np.random.default_rng(7)
k = int(np.sqrt(n))
for spread in (0.1, 0.3, 0.5, 0.8, 1.2):
    centres = rng.standard_normal((k, d)).astype(np.float32)
    lab = np.sort(rng.integers(0, k, n)); x = centres[lab] + spread * rng.standard_normal((n, d)).astype(np.float32) / np.sqrt(2)
    q = centres[rng.integers(0, k, 400)] + spread * rng.standard_normal((400, d)).astype(np.float32) / np.sqrt(2)
    i = rng.integers(0, n - 1, 2000); j = rng.integers(0, n, 2000)
    loc = np.median(((x[i] - x[i + 1]) ** 2).sum(1)) / np.median(((x[i] - x[j]) ** 2).sum(1))
    _, truth = brute_force(x, q, 10, "l2")
    r = []
    for s in (0, 1):
        idx = vidx.Index(d, seed=s, threads=2); idx.add(x)
        r.append(recall(idx.search(q, k=10, ef=10)[1], truth))
    print(os.environ.get("VIDX_SKELETON"), "spread", spread, "locality %.3f" % loc, "recall", np.round(r, 4), flush=True)
