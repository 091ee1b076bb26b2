import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx
from conftest import brute_force, recall
from feeds import tight_clusters
chunk = int(sys.argv[1]); M=int(sys.argv[2]); efc=int(sys.argv[3]); ef=int(sys.argv[4])
x, xl, q, ql, _ = tight_clusters(queries=2000)
(N, DIM), Q, C = x.shape, len(q), 400
_, truth = brute_force(x, q, 10, "l2")
order = np.argsort(xl, kind="stable")
idx = vidx.Index(DIM, M=M, ef_construction=efc, seed=0, threads=2)
for part in np.array_split(order, N // chunk):
    idx.add(x[part], ids=part, progress=False)
I = idx.search(q, k=10, ef=ef)[1]
per = np.array([len(set(I[i]) & set(truth[i])) / 10 for i in range(Q)])
# cluster rank in insertion order = label (sorted by label)
for lo in range(0, C, 50):
    m = (ql >= lo) & (ql < lo + 50)
    print(f"clusters {lo:3d}-{lo+49:3d}: recall {per[m].mean():.4f}  zero-recall {np.mean(per[m]==0):.3f}")
