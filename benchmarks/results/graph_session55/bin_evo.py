import sys
sys.path.insert(0, "/tmp/r55")
import numpy as np, vidx
from h import graph, chunks, split_docs, slot_ids, reachable
x, document, q = chunks(9, documents=500)
docs = split_docs(document)
c = 3; seed = 0
rng = np.random.default_rng(seed)
boiler = rng.standard_normal((2, 32)).astype(np.float32)
idx = vidx.Index(32, "l2", M=8, ef_construction=64, seed=seed, threads=2, quant="binary")
nid = 100000; out = []
for i, r in enumerate(docs):
    v = np.concatenate([x[r], np.repeat(boiler[i % 2][None], c, 0)])
    ids = np.concatenate([r, np.arange(nid, nid + c)]); nid += c
    perm = rng.permutation(len(v))
    idx.add(v[perm], ids=ids[perm], progress=False)
    if i in (5, 10, 20, 40, 80, 120, 160, 200, 300, 400, 499):
        sid = slot_ids(idx); R = reachable(graph(idx)); g = np.flatnonzero(sid >= 100000)
        out.append(f"{i}:{len(sid)}:{np.mean([s in R for s in g]):.2f}")
print(" ".join(out))
