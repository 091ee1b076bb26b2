import os, sys, time, numpy as np, h5py
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/auto2"))
import vidx, hnswlib
which = sys.argv[1]
name = "uniform-200k-4-euclidean"
with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
    Q = f["test"][:]
if which == "vidx":
    idx = vidx.load(f"/tmp/s35/idx/{name}-M16.vidx"); idx.threads = 1
    f = lambda q: idx.search(q, k=10, ef=10)
else:
    idx = hnswlib.Index("l2", 4); idx.load_index(f"/tmp/s35/idx/{name}-hnswlib.bin"); idx.set_num_threads(1); idx.set_ef(10)
    f = lambda q: idx.knn_query(q, k=10)
t = time.perf_counter(); n = 0
while time.perf_counter() - t < 8:
    for q in Q: f(q)
    n += len(Q)
print(which, "%.2f us/query" % ((time.perf_counter() - t) / n * 1e6))
