import os
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests")); sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, vidx
from conftest import brute_force
from graphdump import level0
n_docs, per_doc, dim, spread, step = 5000, 20, 64, 0.1, 2000
from feeds import documents
x, lab, q, ql, centres = documents(spread)
dc = ((centres[:, None, :] - centres[None]) ** 2).sum(-1); np.fill_diagonal(dc, np.inf)
near = np.argsort(dc, axis=1)[:, :10]
for name, order in (("doc order", np.arange(len(x))), ("shuffled", np.random.default_rng(2).permutation(len(x)))):
    idx = vidx.Index(dim, "l2", M=16, seed=0, threads=2)
    for s in range(0, len(x), step): idx.add(x[order[s:s+step]], progress=False)
    lists, entry, levels, M0 = level0(idx)
    sl = lab[order]  # slot -> doc
    I = idx.search(q, 10, ef=10)[1]
    fail = sl[I[:, 0]] != ql
    # doc graph: docs linked from each doc
    out = [set() for _ in range(n_docs)]
    for s, l in enumerate(lists):
        for t in l:
            if sl[t] != sl[s]: out[sl[s]].add(sl[t])
    deg = np.array([len(o) for o in out])
    # fraction of each doc's 5 nearest docs it links to
    cover = np.mean([len(out[d] & set(near[d, :5])) / 5 for d in range(n_docs)])
    stuck = sl[I[fail, 0]]
    s_to_t = np.mean([t in out[s] for s, t in zip(stuck, ql[fail])])
    t_to_s = np.mean([s in out[t] for s, t in zip(stuck, ql[fail])])
    rank = np.mean([list(np.argsort(dc[t])).index(s) for s, t in zip(stuck, ql[fail])])
    later = np.mean([s > t for s, t in zip(stuck, ql[fail])]) if name == "doc order" else float("nan")
    print(f"{name}: fail {fail.mean():.3f} doc out-degree {deg.mean():.1f} links to own 5 nearest docs {cover:.3f} | stuck->target {s_to_t:.2f} target->stuck {t_to_s:.2f} stuck is target's #{rank:.1f} nearest, stuck doc later {later:.2f}")
    inner = np.mean([np.sum(sl[l] == sl[s]) for s, l in enumerate(lists)]); ln = np.mean([len(l) for l in lists])
    print(f"   list length {ln:.1f} inner {inner:.1f}")
