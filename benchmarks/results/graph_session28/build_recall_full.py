# full train set, 2 threads: build time and recall@10 over all test queries (the file's neighbours)
import sys, time, numpy as np, os, h5py, vidx
name = sys.argv[1]; efs = [int(e) for e in sys.argv[2].split(",")]
with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
    X = f["train"][:]; Q = f["test"][:]; gt = f["neighbors"][:, :10]; metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
t = time.perf_counter()
idx = vidx.Index(X.shape[1], metric=metric, kind="hnsw", M=16, ef_construction=int(os.environ.get("EFC", 200)), seed=int(os.environ.get("SEED", 0)), threads=2)
idx.add(X)
out = [f"build {time.perf_counter() - t:.2f}"]
for ef in efs:
    _, I = idx.search(Q, k=10, ef=ef)
    hits = (I[:, :, None] == gt[:, None, :]).any(axis=2).sum(axis=1)
    out.append(f"ef{ef} {hits.mean() / 10:.4f}")
print(" ".join(out), flush=True)
