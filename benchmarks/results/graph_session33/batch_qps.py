"""Median 2-thread batch QPS of one vidx package on a saved index (section 33's batch A/Bs).

    python batch_qps.py PACKAGE_DIR DATASET INDEX.vidx EF THREADS

PACKAGE_DIR holds a `vidx` package (a private copy of a build); 2,000 queries spread over the
test set, one call each round, nine rounds after a warm-up; prints the median QPS.
"""
import sys, time, numpy as np, h5py, json
sys.path.insert(0, sys.argv[1])
import vidx
ds, path, ef, th = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
f = h5py.File(f"/root/.cache/vidx/{ds}.hdf5")
rows = (np.arange(2000) * len(f["test"])) // 2000
Q = f["test"][rows]
idx = vidx.load(path); idx.threads = th
idx.search(Q, k=10, ef=ef)
qs = []
for r in range(9):
    t = time.perf_counter(); idx.search(Q, k=10, ef=ef); qs.append(len(Q) / (time.perf_counter() - t))
print(json.dumps(float(np.median(qs))))
