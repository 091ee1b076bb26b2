"""Head-copies risk: distinct rows whose heads collide. Recall@10 of one-add builds, switches from env.
python collide.py  (PYTHONPATH=/tmp/s55/exp)"""
import os, sys, json, numpy as np, vidx
def truth(X, Q, k=10, metric="l2"):
    out = []
    for s in range(0, len(Q), 500):
        q = Q[s:s+500]
        if metric == "cosine":
            d = -(q @ X.T)
        else:
            d = (q*q).sum(1)[:, None] - 2*q@X.T + (X*X).sum(1)[None]
        out.append(np.argsort(d, 1)[:, :k])
    return np.vstack(out)
def data(kind, dim, n, rng):
    if kind == "gauss":
        return rng.standard_normal((n, dim)).astype(np.float32)
    if kind == "tight":  # 200 tight clusters
        c = rng.standard_normal((200, dim)).astype(np.float32) * 10
        return (c[rng.integers(0, 200, n)] + 0.05*rng.standard_normal((n, dim))).astype(np.float32)
    if kind == "int":  # small integer grid: many equal heads, distinct rows
        return rng.integers(0, 4, (n, dim)).astype(np.float32) + 0.01*rng.standard_normal((n, dim)).astype(np.float32)
res = []
for kind in ("gauss", "tight", "int"):
    for dim in (4, 8, 16, 32, 64):
        rng = np.random.default_rng(dim)
        X = data(kind, dim, 20000, rng); Q = data(kind, dim, 500, np.random.default_rng(dim+1000))
        if kind == "tight":
            Q = X[rng.integers(0, len(X), 500)] + 0.02*rng.standard_normal((500, dim)).astype(np.float32)
        T = truth(X, Q)
        for quant in ("binary", "binary_rot", "lvq4x8", "f32_split", "rabitq"):
            try:
                idx = vidx.Index(dim, "l2", quant=quant, M=16, ef_construction=200, seed=0, threads=2)
                idx.add(X, progress=False)
            except Exception as e:
                print(kind, dim, quant, "ERR", e, file=sys.stderr); continue
            rec = {}
            for ef in (10, 32, 100):
                _, I = idx.search(Q, 10, ef=ef)
                rec[ef] = round(float(np.mean([len(set(a) & set(b)) for a, b in zip(I, T)]))/10, 4)
            line = dict(kind=kind, dim=dim, quant=quant, recall=rec)
            print(json.dumps(line), flush=True)
