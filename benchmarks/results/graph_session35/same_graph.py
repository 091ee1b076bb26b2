"""Builds a set with one package and prints a digest of its search results, for comparing packages."""
import sys, hashlib, numpy as np, h5py, os
sys.path.insert(0, sys.argv[1])
import vidx
name = sys.argv[2]; extra = dict(a.split("=") for a in sys.argv[3:])
extra = {k: int(v) for k, v in extra.items()}
with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
    metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"; X = f["train"][:]; Q = f["test"][:1000]
idx = vidx.Index(X.shape[1], metric=metric, threads=2, **extra); idx.add(X)
D, I = idx.search(Q, k=10, ef=32)
print(name, extra, "M", idx.params["M"], hashlib.sha1(I.tobytes() + D.tobytes()).hexdigest()[:16])
