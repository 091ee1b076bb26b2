import os, sys, time, h5py, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/r33"))
import vidx
from vidx.datasets import spread_rows
path = sys.argv[1]
with h5py.File("/root/.cache/vidx/glove6b-50-angular.hdf5") as f:
    X = f["train"][:]
    rows = spread_rows(len(f["test"]), 10000)
    Q = f["test"][rows]; T = f["neighbors"][rows, :10]
if not os.path.exists(path):
    idx = vidx.Index(dim=50, metric="cosine"); idx.add(X); idx.save(path)
idx = vidx.load(path); idx.threads = 2
def rec(I): return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, T)]))
for ef in (64, 96, 128):
    for rr in (None, ef):
        _, I = idx.search(Q, k=10, ef=ef, rerank=rr)
        print("ef", ef, "rerank", rr, "recall %.4f" % rec(I))
