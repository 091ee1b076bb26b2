# SPANN, default eps=10: a query close to a head prunes every other posting list, so
#  - search(k=100, nprobe=10000) on 500 rows pads with -1/+inf ("fewer than k exist"), which is false;
#  - range_search(radius=1e30) returns a fraction of the rows, and radius = the true 100th distance
#    returns about half of the rows inside it. range_search() takes no eps/nprobe, so a caller cannot
#    widen it per call; only an index built with eps=inf answers fully. Every quant behaves the same.
# Run: PYTHONPATH=<package> python3 spann_eps_repro.py
import os, tempfile
import numpy as np, vidx
for seed, metric in [(11, "l2"), (21, "l2"), (37, "ip")]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((500, 16)).astype(np.float32)
    q = X[10:11] + 0.05
    Xd, qd = X.astype(np.float64), q.astype(np.float64)
    T = ((qd - Xd) ** 2).sum(1) if metric == "l2" else 1 - Xd @ qd[0]
    r100 = float(np.sort(T)[99]) + 1e-3
    for eps in [None, float("inf")]:
        kw = {} if eps is None else {"eps": eps}
        idx = vidx.Index(16, metric, kind="spann", seed=0, threads=1,
                         path=os.path.join(tempfile.mkdtemp(), "p.post"), **kw)
        idx.add(X)
        D, I = idx.search(q, k=100, nprobe=10000)
        a = len(idx.range_search(q, 1e30)[2]); b = len(idx.range_search(q, r100)[2])
        print(f"seed {seed} {metric} index eps={idx.params['eps']}: search k=100 nprobe=10000 -> {(I >= 0).sum()} valid;"
              f" range(1e30) -> {a}/500; range(r=true 100th dist) -> {b}/100")
