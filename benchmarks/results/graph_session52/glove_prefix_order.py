import os
# glove6b-50 first N rows, natural (word-frequency) order against shuffled, one add: recall@10 on the first 1,000 test queries (exact truth).
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx, h5py, hnswlib, time
from conftest import brute_force, recall
n = int(sys.argv[1]); efs = [16, 32, 64]
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5")) as f:
    x = f["train"][:n].astype(np.float32); q = f["test"][:1000].astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True); q /= np.linalg.norm(q, axis=1, keepdims=True)
_, truth = brute_force(x, q, 10, "l2")
for name, order in (("natural", np.arange(n)), ("shuffled", np.random.default_rng(1).permutation(n))):
    for seed in (0, 1):
        t = time.time()
        idx = vidx.Index(50, "cosine", M=16, ef_construction=200, seed=seed, threads=2)
        idx.add(x[order], ids=order, progress=False); bt = time.time() - t
        r = [recall(idx.search(q, k=10, ef=e)[1], truth) for e in efs]
        h = hnswlib.Index("cosine", 50); h.init_index(n, M=16, ef_construction=200, random_seed=seed); h.add_items(x[order], order)
        hr = []
        for e in efs:
            h.set_ef(e); hr.append(recall(h.knn_query(q, k=10)[0].astype(np.int64), truth))
        print(n, name, seed, f"build {bt:.1f}s", "vidx", " ".join(f"{v:.4f}" for v in r), "| hnswlib", " ".join(f"{v:.4f}" for v in hr), flush=True)
