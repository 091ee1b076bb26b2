# build N rows (2 threads), time it, recall@10 at a few ef against brute force
import sys, time, numpy as np, os, h5py, vidx
name, n = sys.argv[1], int(sys.argv[2]); efs = [int(e) for e in sys.argv[3].split(",")] if len(sys.argv) > 3 else []
with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
    X = f["train"][:n]; T = f["test"]; Q = T[::max(1, len(T)//int(os.environ.get("NQ", 1000)))][:int(os.environ.get("NQ", 1000))]; metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
t = time.perf_counter()
idx = vidx.Index(X.shape[1], metric=metric, kind="hnsw", M=16, ef_construction=int(os.environ.get("EFC", 200)), seed=int(os.environ.get("SEED", 0)), threads=2)
idx.add(X)
bt = time.perf_counter() - t
out = [f"build {bt:.2f}"]
if efs:
    if metric == "cosine":
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True); Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        gt = np.argsort(-(Qn @ Xn.T), axis=1)[:, :10]
    else:
        d = (Q**2).sum(1)[:, None] - 2 * Q @ X.T + (X**2).sum(1)[None]
        gt = np.argsort(d, axis=1)[:, :10]
    for ef in efs:
        _, I = idx.search(Q, k=10, ef=ef)
        r = np.mean([len(set(I[i]) & set(gt[i])) / 10 for i in range(len(Q))])
        out.append(f"ef{ef} {r:.4f}")
print(" ".join(out))
