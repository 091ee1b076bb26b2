"""Which relearning decisions an index fed in adds makes: a hash of to_bytes() per (order, quant, metric,
first add) on glove6b-50's first 24,000 rows, adds of 2,000; identical output = identical decisions."""
import sys, numpy as np, vidx, h5py, os, hashlib
f = h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r")
X = f["train"][:24000].astype(np.float32)
rng = np.random.default_rng(0)
out = []
for order in ["natural", "shuffled"]:
    Y = X if order == "natural" else X[rng.permutation(len(X))]
    for quant in ["lvq8", "lvq4x4", "binary", "rabitq", "lvq4"]:
        for metric in ["l2", "cosine"]:
            for first in [1, 1000]:
                idx = vidx.Index(50, metric, kind="flat", quant=quant, threads=1)
                idx.add(Y[:first]); 
                for s in range(first, len(Y), 2000): idx.add(Y[s:s+2000])
                idx.threads = 1
                out.append(f"{order} {quant} {metric} {first} {hashlib.sha1(idx.to_bytes()).hexdigest()[:12]}")
print("\n".join(out))
