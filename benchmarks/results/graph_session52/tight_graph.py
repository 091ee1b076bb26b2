import os
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests")); sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, vidx
from graphdump import level0
from feeds import tight_clusters
x, xl, _, _, _ = tight_clusters(queries=2000)
(N, DIM), C = x.shape, 400
chunk = int(sys.argv[1])
for name, order in (("sorted", np.argsort(xl, kind="stable")), ("shuffled", np.random.default_rng(1).permutation(N))):
    idx = vidx.Index(DIM, M=12, ef_construction=64, seed=0, threads=2)
    for part in np.array_split(order, N // chunk):
        idx.add(x[part], progress=False)
    lists, entry, levels, M0 = level0(idx)
    lab = xl[order]  # slot -> label
    outer = np.array([np.sum(lab[l] != lab[s]) for s, l in enumerate(lists)])
    inner = np.array([np.sum(lab[l] == lab[s]) for s, l in enumerate(lists)])
    indeg_outer = np.zeros(N, int)
    for s, l in enumerate(lists):
        for t in l:
            if lab[t] != lab[s]: indeg_outer[t] += 1
    # per-cluster: distinct clusters reachable by out links, in-links from other clusters
    cl_out = np.zeros(C); cl_in = np.zeros(C)
    for c in range(C):
        m = np.where(lab == c)[0]
        cl_out[c] = len(set(lab[np.concatenate([lists[s] for s in m])]) - {c})
        cl_in[c] = indeg_outer[m].sum()
    rank = np.argsort(np.argsort([np.where(lab == c)[0].min() if np.any(lab==c) else 0 for c in range(C)]))
    print(name, "len", np.mean([len(l) for l in lists]).round(2), "inner", inner.mean().round(2), "outer", outer.mean().round(2))
    for lo in range(0, C, 100):
        m = (rank >= lo) & (rank < lo + 100)
        print(f"  insertion rank {lo}-{lo+99}: distinct out-clusters {cl_out[m].mean():.1f}  in-links from others {cl_in[m].mean():.1f}")
