import sys, time, h5py, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
name, quant, keep, out = sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5]
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    X = f["train"][:]; metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
idx = vidx.Index(dim=X.shape[1], metric=metric, kind="hnsw", quant=quant, M=16, ef_construction=200, seed=int(sys.argv[6]) if len(sys.argv) > 6 else 0, keep_vectors=keep)
idx.threads = 2
t = time.perf_counter(); idx.add(X); print(out, "build", round(time.perf_counter() - t, 2), "s", flush=True)
idx.save(out)
