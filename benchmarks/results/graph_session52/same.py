import os
import sys, hashlib, numpy as np, vidx, h5py
f = h5py.File(os.path.expanduser("~/.cache/vidx/") + "glove6b-50-angular.hdf5"); g = f["train"][:30000].astype(np.float32)
rng = np.random.default_rng(5); C = 400
centers = rng.standard_normal((C, 16)).astype(np.float32); lab = rng.integers(0, C, 8000)
t = (centers[lab] + 0.05 * rng.standard_normal((8000, 16))).astype(np.float32)
srt = np.argsort(lab, kind="stable"); shf = np.random.default_rng(1).permutation(8000)
def h(idx): return hashlib.sha1(idx.to_bytes()).hexdigest()[:12]
out = []
for name, x, metric, parts, quant in [("glove one add", g, "cosine", 1, None), ("glove adds of 3000", g, "cosine", 10, None),
                               ("glove lvq8 adds", g, "cosine", 10, "lvq8"),
                               ("tight sorted one add", t[srt], "l2", 1, None), ("tight shuffled adds", t[shf], "l2", 20, None),
                               ("tight sorted adds", t[srt], "l2", 20, None)]:
    kw = {"quant": quant} if quant else {}
    idx = vidx.Index(x.shape[1], metric, seed=0, threads=2, **kw)
    for p in np.array_split(np.arange(len(x)), parts): idx.add(x[p], progress=False)
    out.append(f"{name}: {h(idx)}")
print("\n".join(out))
