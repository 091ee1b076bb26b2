"""Rows fed in small adds. small_adds.py quant metric M addsize kind [seed]
kind: docs (documents_of_chunks, one document a call; addsize ignored), rand (gaussian, shuffled),
sorted (tight clusters sorted by cluster)"""
import os, sys, json
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
quant, metric, M, size, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
dim = 32
rng = np.random.default_rng(100 + seed)
if kind == "docs":
    x, document, q = documents_of_chunks(seed, documents=600, dim=dim)
    parts = np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1)
else:
    n = 6000
    if kind == "rand":
        x = rng.standard_normal((n, dim)).astype(np.float32); q = rng.standard_normal((500, dim)).astype(np.float32)
        order = np.arange(n)
    else:
        c = rng.standard_normal((300, dim)).astype(np.float32); lab = rng.integers(0, 300, n + 500)
        both = (c[lab] + 0.1 * rng.standard_normal((n + 500, dim))).astype(np.float32)
        x, q = both[:n], both[n:]; order = np.argsort(lab[:n], kind="stable")
    parts = [order[i:i + size] for i in range(0, n, size)]
idx = vidx.Index(dim, metric, quant=quant, M=M, ef_construction=64, seed=seed, threads=2)
t = time.time()
for p in parts:
    idx.add(x[p], ids=p, progress=False)
bt = time.time() - t
T = truth(x, q, 10, metric)
r = {ef: round(recall(idx.search(q, k=10, ef=ef)[1], T), 4) for ef in (10, 32)}
g, reach, dups, selfl = graph_stats(idx)
print(json.dumps(dict(pkg=PKG, quant=quant, metric=metric, M=M, size=size, kind=kind, seed=seed, build=round(bt, 2),
                      recall=r, reach=round(len(reach) / len(idx), 4), dups=dups, self=selfl)), flush=True)
