import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, vidx
from conftest import brute_force, recall
from feeds import documents
x, lab, q, ql, c = documents(0.1); _, gt = brute_force(x, q, 10, "l2")
o = np.random.default_rng(2).permutation(len(x))
step = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
rs = []
for seed in (0, 1):
    idx = vidx.Index(64, "l2", M=16, seed=seed, threads=2)
    for s in range(0, len(x), step): idx.add(x[o[s:s+step]], ids=o[s:s+step], progress=False)
    rs.append([recall(idx.search(q, 10, ef=e)[1], gt) for e in (10, 20, 40)])
print("shuf", step, np.round(np.mean(rs, 0), 4))
