import os, sys
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(HERE, "..", "graph_session52"))
import numpy as np
from feeds import documents
x, lab, q, ql, centres = documents(0.1)
dc = ((centres[:, None, :] - centres[None]) ** 2).sum(-1); np.fill_diagonal(dc, np.inf)
rank = np.argsort(np.argsort(dc, axis=1), axis=1)  # rank[a, b] = rank of b among a's neighbours
near = np.argsort(dc, axis=1)[:, :5]
r = np.array([rank[l, s] for s in range(5000) for l in near[s]])
print("rank of S among L's neighbours, for L in S's 5NN: median", np.median(r), "pct <5", np.mean(r < 5), "<10", np.mean(r < 10), "<25", np.mean(r < 25), "<50", np.mean(r < 50))
