import os, sys, time, h5py, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/late"))
import vidx
from vidx.datasets import spread_rows
out = sys.argv[1]
with h5py.File("/root/.cache/vidx/glove6b-50-angular.hdf5") as f:
    X = f["train"][:]
    rows = spread_rows(len(f["test"]), 10000)
    Q = f["test"][rows]; T = f["neighbors"][rows, :10]
def rec(I): return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, T)]))
idx = vidx.Index(dim=50, metric="cosine", threads=2)
t = time.perf_counter(); idx.add(X); bt = time.perf_counter() - t
idx.save(out)
print(os.environ.get("VIDX_LATE_EF", "1"), "build %.2f s" % bt, " ".join("ef %d %.4f" % (ef, rec(idx.search(Q, k=10, ef=ef)[1])) for ef in (32, 64, 96, 128, 192)), flush=True)
