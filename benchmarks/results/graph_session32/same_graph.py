import sys, h5py, numpy as np, hashlib, time
sys.path.insert(0, sys.argv[1]); import vidx
with h5py.File("/root/.cache/vidx/" + sys.argv[2] + ".hdf5") as f: X = f["train"][:30000]; metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
for quant in sys.argv[3].split(","):
    ix = vidx.Index(dim=X.shape[1], metric=metric, kind="hnsw", quant=quant); ix.threads = 2
    t = time.perf_counter(); ix.add(X); dt = time.perf_counter() - t
    print(quant, hashlib.sha1(ix.to_bytes()).hexdigest()[:16], f"{dt:.2f}s")
