"""neardup.py's feed (groups of R=10 near-duplicates, one group an add): how the level-0 lists split
between own group and others. neardup_lists.py quant eps metric"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
quant, eps, metric = sys.argv[1], float(sys.argv[2]), sys.argv[3]
dim, G, R, seed = 32, 1500, 10, 0
rng = np.random.default_rng(seed)
base = rng.standard_normal((G, dim)).astype(np.float32)
X = (np.repeat(base, R, 0) + eps * rng.standard_normal((G * R, dim))).astype(np.float32)
idx = vidx.Index(dim, metric, quant=quant, M=8, ef_construction=64, seed=seed, threads=2)
for i in range(0, len(X), R): idx.add(X[i:i + R], ids=np.arange(i, i + R), progress=False)
g = hnsw_graph(idx); sid = slot_ids(idx); grp = sid // R
own = [sum(grp[v] == grp[s] for v in l.tolist()) for s, l in enumerate(g["l0"])]
other = [len(l) - o for l, o in zip(g["l0"], own)]
inn = np.zeros(G, int)
for s, l in enumerate(g["l0"]):
    for v in l.tolist():
        if grp[v] != grp[s]: inn[grp[v]] += 1
print(PKG, quant, eps, metric, "level-0 links: own group %.2f, others %.2f; rows with no outside link %.3f; groups with no level-0 in-link from outside %.3f"
      % (np.mean(own), np.mean(other), np.mean(np.array(other) == 0), np.mean(inn == 0)))
