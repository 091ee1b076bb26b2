"""Build the man pages fed a page an add (or one shuffled add) with the package on PYTHONPATH; save to OUT."""
import sys, h5py, numpy as np, vidx
path, feed, out = sys.argv[1:4]
with h5py.File(path, "r") as f:
    x = f["train"][:]; doc = f["documents"][:]
idx = vidx.Index(384, "cosine", M=16, ef_construction=200, seed=0, threads=2)
if feed == "per_document":
    for g in np.split(np.arange(len(x)), np.flatnonzero(np.diff(doc)) + 1): idx.add(x[g], ids=g, progress=False)
else:
    p = np.random.default_rng(0).permutation(len(x)); idx.add(x[p], ids=p, progress=False)
idx.save(out)
