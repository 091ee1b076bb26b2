"""Saves an index of glove6b-50's 390,000 rows (cosine) fed in natural order in adds of STEP rows (ids = row numbers),
for saved_sweep.py: python3 build_fed.py PKG (vidx|hnswlib) OUT [STEP=10000]"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import h5py, numpy as np
lib, out = sys.argv[2], sys.argv[3]
step = int(os.environ.get("STEP", 10000))
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    X = np.asarray(f["train"], dtype=np.float32)
N = len(X)
t = time.perf_counter()
if lib == "vidx":
    import vidx
    idx = vidx.Index(50, "cosine", kind="hnsw", seed=0, threads=2)
    for s in range(0, N, step): idx.add(X[s:s + step], ids=np.arange(s, min(N, s + step)))
    build = time.perf_counter() - t
    idx.save(out); M = idx.params["M"]
else:
    import hnswlib
    idx = hnswlib.Index(space="cosine", dim=50); idx.init_index(N, M=16, ef_construction=200, random_seed=0)
    idx.set_num_threads(2)
    for s in range(0, N, step): idx.add_items(X[s:s + step], np.arange(s, min(N, s + step)))
    build = time.perf_counter() - t
    idx.save_index(out); M = 16
print(f"{lib} {sys.argv[1]} fed in adds of {step}: M {M}, build {build:.1f} s -> {out}", flush=True)
