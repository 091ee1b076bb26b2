"""An automatic M chosen late: glove6b-50, 120,000 rows drawn at random from all of it (seed 7, kept
in file order), added shuffled (seed 0) in adds of CH rows, with M automatic and with M given.
Recall@10 (ids in common with the exact top 10) over 1,000 test queries (seed 0) at ef 16/32/64.

    PYTHONPATH=<package> python3 late_degree.py 5000 0,24,16     # 0: automatic
"""
import os
import sys
import time

import h5py
import numpy as np

import vidx

with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5")) as f:
    train = np.asarray(f["train"][:], dtype=np.float32)
    test = np.asarray(f["test"][:], dtype=np.float32)
X = train[np.sort(np.random.default_rng(7).choice(len(train), 120000, replace=False))]
Q = test[np.sort(np.random.default_rng(0).choice(len(test), 1000, replace=False))]
Xn, Qn = X / np.linalg.norm(X, axis=1, keepdims=True), Q / np.linalg.norm(Q, axis=1, keepdims=True)
truth = np.argsort(-(Qn @ Xn.T), axis=1)[:, :10]
order = np.random.default_rng(0).permutation(len(X))


def recall(found):
    return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])


chunk = int(sys.argv[1])
for M in [int(m) for m in sys.argv[2].split(",")]:
    idx = vidx.Index(X.shape[1], "cosine", threads=2, **({"M": M} if M else {}))
    start, slowest = time.perf_counter(), 0.0
    for s in range(0, len(X), chunk):
        part = order[s : s + chunk]
        t = time.perf_counter()
        idx.add(X[part], ids=part.astype(np.int64))
        slowest = max(slowest, time.perf_counter() - t)
    build = time.perf_counter() - start
    found = {ef: recall(idx.search(Q, k=10, ef=ef)[1]) for ef in (16, 32, 64)}
    print(f"adds of {chunk} M={M or 'auto'}->{idx.params['M']} build {build:5.1f}s slowest add {slowest:4.2f}s "
          f"memory {idx.memory_usage() / 2**20:.1f} MiB " + " ".join(f"ef{e}:{r:.4f}" for e, r in found.items()),
          flush=True)
