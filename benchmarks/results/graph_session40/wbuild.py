import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx, vidx.datasets as ds
out = sys.argv[2]
def data(name):
    if name == "clustered":
        d = ds.make_clustered(50000, 32, n_queries=1000, n_clusters=300, seed=1, metric="l2")
        return d.train, d.test, d.neighbors, "l2"
    d = ds.load(name)
    n = 100000 if "glove" in name else len(d.train)
    X = d.train[:n]; Q = d.test[:1000]
    GT = ds.exact_knn(X, Q, d.metric, k=10)[0] if n < len(d.train) else d.neighbors[:1000]
    return X, Q, GT, d.vidx_metric
for name in sys.argv[3].split(","):
    X, Q, GT, metric = data(name)
    np.save(f"{out}/{name}.q.npy", Q); np.save(f"{out}/{name}.gt.npy", GT[:, :10])
    for quant in sys.argv[4].split(","):
        idx = vidx.Index(dim=X.shape[1], metric=metric, kind="hnsw", quant=quant, M=16)
        idx.add(X); idx.save(f"{out}/{name}.{quant}.vidx"); print("saved", name, quant, flush=True)
