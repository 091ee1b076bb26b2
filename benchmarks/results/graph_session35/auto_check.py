import sys, time, numpy as np, h5py, os
sys.path.insert(0, sys.argv[1])
import vidx
for name in sys.argv[2:]:
    with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
        metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"; X = f["train"][:]
    idx = vidx.Index(X.shape[1], metric=metric, threads=2)
    m0 = idx.params["M"]
    t = time.perf_counter(); idx.add(X); dt = time.perf_counter() - t
    print(name, "M before", m0, "after", idx.params["M"], f"build {dt:.2f} s", flush=True)
