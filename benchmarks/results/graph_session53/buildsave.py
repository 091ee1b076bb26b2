import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "graph_session52"))
import numpy as np, vidx
from feeds import documents
x, lab, q, ql, c = documents(float(sys.argv[2]) if len(sys.argv) > 2 else 0.1)
order = sys.argv[3] if len(sys.argv) > 3 else "doc"
o = np.arange(len(x)) if order == "doc" else np.random.default_rng(2).permutation(len(x))
idx = vidx.Index(64, "l2", M=16, seed=0, threads=2); t = time.perf_counter()
for s in range(0, len(x), 2000): idx.add(x[o[s:s+2000]], ids=o[s:s+2000], progress=False)
print(sys.argv[1], f"build {time.perf_counter()-t:.2f}s"); idx.save(sys.argv[1])
