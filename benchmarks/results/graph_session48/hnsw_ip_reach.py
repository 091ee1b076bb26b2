"""Rows an HNSW walk cannot reach under "ip" (session 48). Run with the package to test on PYTHONPATH:

    PYTHONPATH=<package> python hnsw_ip_reach.py

1,500 clustered 16-d rows (20 centres, spread 0.15), 3 Gaussian queries, M and ef at the defaults except
where named. Prints, for quant none and f32_split: rows a search of every row (k = ef = 1,500) returns,
rows range_search with an infinite radius returns, and the same with every id allowed (the filtered scan);
then, for 20 queries near the centres and a radius holding ~100 rows each, the rows found within it at
ef 6,000 against brute force, and recall@10 at the default ef."""
import numpy as np

import vidx

rng = np.random.default_rng(5)
N, DIM = 1500, 16
centres = rng.standard_normal((20, DIM)).astype(np.float32)
x = (centres[rng.integers(0, 20, N)] + 0.15 * rng.standard_normal((N, DIM))).astype(np.float32)
q = rng.standard_normal((3, DIM)).astype(np.float32)
for quant in ["none", "f32_split"]:
    idx = vidx.Index(DIM, metric="ip", kind="hnsw", quant=quant)
    idx.add(x)
    _, I = idx.search(q, k=N, ef=N)
    lims, _, _ = idx.range_search(q, float("inf"))
    lims_all, _, _ = idx.range_search(q, float("inf"), filter=np.arange(N))
    print(f"{quant:9s} search(k=ef=1500) rows returned {(I >= 0).sum(1).tolist()}; range_search(inf) "
          f"{np.diff(lims).tolist()}; with every id allowed {np.diff(lims_all).tolist()}")
q2 = (centres[rng.integers(0, 20, 20)] + 0.15 * rng.standard_normal((20, DIM))).astype(np.float32)
idx = vidx.Index(DIM, metric="ip", kind="hnsw")
idx.add(x)
d = 1 - q2.astype(np.float64) @ x.T.astype(np.float64)
r = float(np.median(np.sort(d, 1)[:, 100]))
lims, _, _ = idx.range_search(q2, r, ef=4 * N)
print(f"range_search(r={r:.3f}, ef=6000): {int(lims[-1])} of {int((d < r).sum())} rows within the radius")
truth = np.argsort(d, axis=1)[:, :10]
found = idx.search(q2, 10)[1]
print(f"recall@10 at the default ef: {np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]):.3f}")
