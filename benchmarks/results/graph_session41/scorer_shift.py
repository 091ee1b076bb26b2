# How much the recall scorer change moves figures: hnswlib (M=16, efC=200) on 10,000 spread train rows
# of fashion-mnist and glove6b-50 and 1,000 queries, exact ground truth recomputed; recall@10 by
# the old rule (k-th x (1 + 1e-3)) and the new (ann-benchmarks: k-th + 1e-3, ids once).
import numpy as np, hnswlib, vidx.datasets as D
from vidx.datasets import true_distances
from vidx.bench import recall as R
def old_rule(train, q, ids, gt, metric, k=10):
    dist = true_distances(train, q, ids[:, :k], metric)
    lim = gt[:, k-1].astype(np.float64) * (1 + 1e-3) + 1e-6
    return np.count_nonzero(dist <= lim[:, None]) / (len(ids) * k)
for name in ["fashion-mnist-784-euclidean", "glove6b-50-angular"]:
    ds = D.subset(D.load(name, download=False), 10000, 1000)
    space = "l2" if ds.metric == "euclidean" else "cosine"
    p = hnswlib.Index(space=space, dim=ds.dim); p.init_index(len(ds.train), M=16, ef_construction=200, random_seed=1)
    p.add_items(ds.train, num_threads=2)
    for ef in [10, 16, 32, 64]:
        p.set_ef(ef); ids, _ = p.knn_query(ds.test, k=10, num_threads=2)
        o = old_rule(ds.train, ds.test, ids.astype(np.int64), ds.distances, ds.metric)
        n = R.recall_at_k(ds.train, ds.test, ids.astype(np.int64), ds.distances, ds.metric, 10)
        print(f"{name} ef={ef}: old {o:.4f} new {n:.4f} diff {n-o:+.4f}", flush=True)
