import sys, time, numpy as np, os, h5py
sys.path.insert(0, sys.argv[1])
import vidx
rng = np.random.default_rng(0)
k = 1024
C = rng.standard_normal((4 * k, 32)) * 4
Xm = (C[rng.integers(0, 4 * k, 100000)] + rng.standard_normal((100000, 32))).astype(np.float32)
Xg = np.asarray(h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r")["train"][:100000])
for name, X in [("mixture32", Xm), ("glove100k", Xg)]:
    ts = []
    for _ in range(3):
        t = time.process_time(); r = vidx.kmeans(X, k, iters=0, seed=1, init="kmeans++", threads=1); ts.append(time.process_time() - t)
    print(name, "kmeans++ k=1024 cpu s", sorted(ts)[1])
