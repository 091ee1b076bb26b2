import os
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests")); sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, vidx
from conftest import brute_force
from graphdump import level0
from feeds import tight_clusters
x, xl, q, ql, centers = tight_clusters(queries=2000)
(N, DIM), Q = x.shape, len(q)
chunk = int(sys.argv[1])
order = np.argsort(xl, kind="stable")
idx = vidx.Index(DIM, M=int(sys.argv[2]), ef_construction=int(sys.argv[3]), seed=0, threads=2)
for part in np.array_split(order, N // chunk):
    idx.add(x[part], progress=False)
lab = xl[order]
D, I = idx.search(q, k=10, ef=10)
fail = np.array([lab[I[i,0]] != ql[i] for i in range(Q)])
# rank of cluster = label (sorted)
print("fail rate", fail.mean())
stuck = lab[I[fail, 0]]
print("target label quartiles", np.percentile(ql[fail], [25,50,75]), " stuck-in label quartiles", np.percentile(stuck, [25,50,75]))
# how close is the stuck cluster to the target vs the nearest other cluster
dc = np.linalg.norm(centers[stuck] - centers[ql[fail]], axis=1)
allc = np.linalg.norm(centers[:,None,:]-centers[None,:,:],axis=2); np.fill_diagonal(allc, 1e9)
rankstuck = [(allc[t] < allc[t, s]).sum() for t, s in zip(ql[fail], stuck)]
print("stuck cluster is the target's n-th nearest cluster: median", np.median(rankstuck), "dist", np.median(dc), "vs target's nearest", np.median(allc[ql[fail]].min(1)))
lists, entry, levels, M0 = level0(idx)
# does the stuck cluster have any out link to the target cluster?
has = []
for t, s in zip(ql[fail], stuck):
    m = np.where(lab == s)[0]
    outs = set(lab[np.concatenate([lists[i] for i in m])])
    has.append(t in outs)
print("stuck cluster links to target cluster:", np.mean(has))
# in-degree of target clusters overall
# list lengths of stuck clusters and target clusters
ln = np.array([len(l) for l in lists])
print("mean list length: all", ln.mean().round(2), "stuck clusters", np.mean([ln[lab == s].mean() for s in stuck]).round(2))
outer = np.array([np.sum(lab[l] != lab[s]) for s, l in enumerate(lists)])
print("outer links/node: all", outer.mean().round(2), "stuck", np.mean([outer[lab == s].mean() for s in stuck]).round(2), "M0", M0)
