import os
import hashlib, numpy as np, vidx, h5py
f = h5py.File(os.path.expanduser("~/.cache/vidx/") + "glove6b-50-angular.hdf5"); g = f["train"][:20000].astype(np.float32)
def h(idx): return hashlib.sha1(idx.to_bytes()).hexdigest()[:12]
for quant in ["f32_split", "lvq8", "lvq4x4", "rabitq", "f16"]:
    idx = vidx.Index(50, "cosine", quant=quant, seed=0, threads=2)
    for p in np.array_split(np.arange(20000), 4): idx.add(g[p], progress=False)
    idx.remove(np.arange(0, 20000, 3)); idx.add(g[:2000] * 1.01, ids=np.arange(30000, 32000))
    print(quant, h(idx))
