# Build time of a one-add build not in runs (byte-identical graphs before and after): normal_build.py NAME ROWS
import os, sys, time, numpy as np, h5py, vidx
name, n = sys.argv[1], int(sys.argv[2])
with h5py.File(os.path.expanduser("~/.cache/vidx/") + name + ".hdf5") as f:
    x = f["train"][:n].astype(np.float32)
idx = vidx.Index(x.shape[1], "l2" if "euclidean" in name else "cosine", M=16, seed=0, threads=2)
t = time.perf_counter(); idx.add(x, progress=False); print(f"{time.perf_counter() - t:.3f}")
