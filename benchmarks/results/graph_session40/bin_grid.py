# Recall@10 of HNSW with 1-bit walk codes at several ef and rerank settings.
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx, vidx.datasets as ds
sets = sys.argv[2].split(",")
quants = sys.argv[3].split(",")
def rec(I, gt):
    return np.mean([len(set(a) & set(b[:10])) / 10 for a, b in zip(I, gt)])
for name in sets:
    if name.startswith("clustered"):
        d = ds.make_clustered(50000, 32, n_queries=1000, n_clusters=300, seed=1, metric="l2")
        X, Q, GT, metric = d.train, d.test, d.neighbors, "l2"
    else:
        d = ds.load(name)
        n = 100000 if "glove" in name else len(d.train)
        X = d.train[:n]; Q = d.test[:1000]; metric = d.vidx_metric
        GT = ds.exact_knn(X, Q, d.metric, k=10) [0] if n < len(d.train) else d.neighbors[:1000]
    for quant in quants:
        idx = vidx.Index(dim=X.shape[1], metric=metric, kind="hnsw", quant=quant, M=16)
        t = time.time(); idx.add(X); bt = time.time() - t
        row = []
        for ef in [64, 128, 256, 512]:
            for rr in [0, ef]:
                t = time.time(); D, I = idx.search(Q, 10, ef=ef, rerank=rr if rr else None); st = time.time() - t
                row.append(f"ef{ef}/rr{rr or 'auto'} {rec(I, GT):.3f} ({len(Q)/st:.0f}qps)")
        print(name, quant, f"build {bt:.1f}s", " | ".join(row), flush=True)
