import sys, hashlib, numpy as np, vidx
from vidx import datasets
for name in ("wordnet-minilm-384-angular", "fashion-mnist-784-euclidean"):
    d = datasets.load(name)
    for order in ("natural", "shuffled"):
        o = np.arange(len(d.train)) if order == "natural" else np.random.default_rng(1).permutation(len(d.train))
        idx = vidx.Index(d.train.shape[1], d.vidx_metric, M=16, ef_construction=200, seed=0, threads=2)
        idx.add(np.ascontiguousarray(d.train[o]), ids=o, progress=False)
        print(name[:12], order, hashlib.sha256(idx.to_bytes()).hexdigest()[:16], flush=True)
