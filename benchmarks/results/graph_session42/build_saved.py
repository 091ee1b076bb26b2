import sys, h5py, numpy as np, vidx
name, n, quant, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    x = f["train"][:n]; metric = {"angular": "cosine", "euclidean": "l2"}[f.attrs["distance"]]
idx = vidx.Index(x.shape[1], metric, quant=quant, seed=1, threads=2)
idx.add(x, progress=False)
print(name, quant, idx.params["M"], idx._impl.stats() if hasattr(idx._impl, "stats") else "")
idx.save(out)
