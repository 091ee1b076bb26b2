import os
import numpy as np
from feeds import tight_clusters
x, xl, _, _, _ = tight_clusters(queries=2000)
(N, DIM), C = x.shape, 400
for name, order in (("sorted", np.argsort(xl, kind="stable")), ("shuffled", np.random.default_rng(1).permutation(N))):
    xs, ls = x[order], xl[order]
    res = []
    for pos in range(400, N, 97):
        d = ((xs[:pos] - xs[pos]) ** 2).sum(1)
        nn = np.argsort(d)[:64]
        res.append(len(set(ls[nn]) - {ls[pos]}))
    print(name, "distinct other clusters among 64-NN of prior rows: median", np.median(res), "mean", np.mean(res))
