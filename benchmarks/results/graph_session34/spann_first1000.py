import os, sys, h5py, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/r33"))
import vidx
with h5py.File("/root/.cache/vidx/glove6b-50-angular.hdf5") as f:
    Q = f["test"][:1000]; T = f["neighbors"][:1000, :10]
for name in ("none", "lvq8"):
    idx = vidx.load(f"/tmp/s34/spq/{name}.spann"); idx.threads = 1
    row = []
    for nprobe in (8, 16, 32, 64):
        _, I = idx.search(Q, k=10, nprobe=nprobe)
        row.append(round(float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, T)])), 4))
    print(name, "first 1000 test queries, recall@10 at nprobe 8/16/32/64:", row)
