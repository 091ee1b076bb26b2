import sys, time, h5py, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
name, quant, keep = sys.argv[2], sys.argv[3], sys.argv[4] == "1"
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    X = f["train"][:]; metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
ts = []
for r in range(2):
    idx = vidx.Index(dim=X.shape[1], metric=metric, kind="hnsw", quant=quant, M=16, ef_construction=200, seed=0, keep_vectors=keep)
    idx.threads = 2
    t = time.perf_counter(); idx.add(X); ts.append(round(time.perf_counter() - t, 2))
    del idx
print(name, quant, "keep" if keep else "", "builds", ts, flush=True)
