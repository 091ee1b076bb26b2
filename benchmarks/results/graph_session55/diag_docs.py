"""Which true neighbours a row's level-0 list holds: same document, earlier, later (man pages)."""
import sys, h5py, numpy as np
sys.path[:0] = ["/work/main/benchmarks/results/graph_session52", "/work/main/tests"]
import vidx
from graphdump import level0
f = h5py.File("manpages-minilm-384-angular.hdf5", "r"); x = f["train"][:]; doc = f["documents"][:]
n = len(x); rng = np.random.default_rng(5)
probe = rng.choice(n, 3000, replace=False)
sims = x[probe] @ x.T; sims[np.arange(3000), probe] = -9
nn = np.argsort(-sims, axis=1)[:, :10]
def feed(name):
    idx = vidx.Index(384, "cosine", M=16, ef_construction=200, seed=0, threads=2)
    if name == "per_document":
        cuts = np.flatnonzero(np.diff(doc)) + 1
        order = np.arange(n); groups = np.split(order, cuts)
    elif name == "per_document_random_groups":
        cuts = np.flatnonzero(np.diff(doc)) + 1
        order = rng.permutation(n); groups = np.split(order, cuts)
    else:
        order = rng.permutation(n); groups = [order]
    for g in groups: idx.add(x[g], progress=False)
    lists, *_ = level0(idx)
    slot_of = np.empty(n, np.int64); slot_of[order] = np.arange(n)
    row_of = order
    cnt = {}
    for p, row in enumerate(probe):
        links = set(row_of[lists[slot_of[row]]].tolist())
        for t in nn[p][:5]:
            kind = "same" if doc[t] == doc[row] else ("earlier" if slot_of[t] < slot_of[row] else "later")
            c = cnt.setdefault(kind, [0, 0]); c[0] += t in links; c[1] += 1
    ln = np.mean([len(l) for l in lists])
    print(name, {k: (round(v[0] / v[1], 3), v[1]) for k, v in cnt.items()}, "mean list", round(ln, 1), flush=True)
for name in sys.argv[1:]: feed(name)
