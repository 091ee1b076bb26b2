import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, vidx
from conftest import brute_force, recall
from feeds import documents
x, lab, q, ql, c = documents(0.1); _, gt = brute_force(x, q, 10, "l2")
for efc in map(int, sys.argv[1].split(",")):
  for name, o in (("doc", np.arange(len(x))), ("shuf", np.random.default_rng(2).permutation(len(x)))):
    idx = vidx.Index(64, "l2", M=16, ef_construction=efc, seed=0, threads=2); t = time.perf_counter()
    for s in range(0, len(x), 2000): idx.add(x[o[s:s+2000]], ids=o[s:s+2000], progress=False)
    print(efc, name, f"{time.perf_counter()-t:.1f}s", [round(recall(idx.search(q, 10, ef=e)[1], gt), 4) for e in (10, 20, 40)], flush=True)
