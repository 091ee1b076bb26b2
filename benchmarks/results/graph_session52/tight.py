import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx, hnswlib, time
from conftest import brute_force, recall
chunk = int(sys.argv[1]); M=int(sys.argv[2]); efc=int(sys.argv[3]); efs=[int(e) for e in sys.argv[4].split(",")]
from feeds import tight_clusters
x, labels, q, _, _ = tight_clusters()
N, DIM = x.shape
_, truth = brute_force(x, q, 10, "l2")
for name, order in (("sorted", np.argsort(labels, kind="stable")), ("shuffled", np.random.default_rng(1).permutation(N))):
    rs = {e: [] for e in efs}; hs = {e: [] for e in efs}
    for seed in (0, 1):
        idx = vidx.Index(DIM, M=M, ef_construction=efc, seed=seed, threads=2)
        h = hnswlib.Index("l2", DIM); h.init_index(N, M=M, ef_construction=efc, random_seed=seed); h.set_num_threads(1)
        for part in np.array_split(order, N // chunk):
            idx.add(x[part], ids=part, progress=False)
            h.add_items(x[part], part)
        for e in efs:
            rs[e].append(recall(idx.search(q, k=10, ef=e)[1], truth))
            h.set_ef(e); hs[e].append(recall(h.knn_query(q, k=10)[0].astype(np.int64), truth))
    print(chunk, name, "vidx", " ".join(f"{e}:{np.mean(rs[e]):.4f}" for e in efs), "| hnswlib", " ".join(f"{e}:{np.mean(hs[e]):.4f}" for e in efs), flush=True)
