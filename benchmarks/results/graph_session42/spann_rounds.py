# SPANN's rounds past the eps bound (a helper's probe): 40,000 rows of 40 clusters, 50 queries, a
# filter allowing 5% of the rows. Usage: spann_rounds.py QUANT filtered|sizes
#   filtered: k=10 under the filter, nprobe and rerank varied: lists read and recall against the
#             filtered brute force (spann_rounds_filtered.txt)
#   sizes:    k=10 / 1000 / 3000 with and without the filter: lists, entries, results returned
#             (spann_rounds_perf.txt)
import os, sys, tempfile, time
import numpy as np
import vidx

quant, mode = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
n = 40000
C = rng.standard_normal((40, 16)).astype(np.float32) * 10
X = (C[rng.integers(0, 40, n)] + rng.standard_normal((n, 16))).astype(np.float32)
Q = (C[rng.integers(0, 40, 50)] + rng.standard_normal((50, 16))).astype(np.float32)
idx = vidx.Index(16, 'l2', 'spann', path=os.path.join(tempfile.mkdtemp(), 'p'), quant=quant, threads=2, seed=1)
idx.add(X, progress=False)
filt = np.sort(rng.choice(n, n // 20, replace=False).astype(np.int64))


def timed(**kw):
    idx.reset_stats()
    t = time.perf_counter()
    D, I = idx.search(Q, **kw)
    return I, idx.stats(), time.perf_counter() - t


if mode == "filtered":
    G = filt[((Q[:, None] - X[filt][None]) ** 2).sum(-1).argsort(1)[:, :10]]
    for npb in [None, 256]:
        for rr in [None, 1000]:
            I, s, t = timed(k=10, filter=filt, nprobe=npb, rerank=rr)
            rec = np.mean([len(set(I[i]) & set(G[i])) / 10 for i in range(len(Q))])
            print(quant, npb, rr, s['lists_read'], rec, f"{t * 1000:.0f}ms")
else:
    for k, f, npb in [(10, None, None), (1000, None, None), (1000, filt, None), (1000, filt, 256), (3000, filt, 256),
                      (10, filt, 256)]:
        I, s, t = timed(k=k, filter=f, nprobe=npb)
        print(quant, k, 'filt' if f is not None else '-', npb, s['lists_read'], s['entries_scanned'],
              int((I >= 0).sum()), f"{t * 1000:.0f}ms")
