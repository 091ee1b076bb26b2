import os, sys
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, vidx
from conftest import brute_force
from graphdump import level0
from feeds import documents
x, lab, q, ql, centres = documents(0.1)
dc = ((centres[:, None, :] - centres[None]) ** 2).sum(-1); np.fill_diagonal(dc, np.inf)
near = np.argsort(dc, axis=1)[:, :5]
for name, order in (("doc order", np.arange(len(x))), ("shuffled", np.random.default_rng(2).permutation(len(x)))):
    idx = vidx.Index(64, "l2", M=16, seed=0, threads=2)
    for s in range(0, len(x), 2000): idx.add(x[order[s:s+2000]], progress=False)
    lists, entry, levels, M0 = level0(idx)
    sl = lab[order]
    out = [set() for _ in range(5000)]
    for s, l in enumerate(lists):
        for t in l:
            if sl[t] != sl[s]: out[sl[s]].add(sl[t])
    # doc insertion time: mean position of its rows
    pos = np.zeros(5000); np.add.at(pos, sl, np.arange(len(sl))); pos /= 20
    e_c, e_n, l_c, l_n = 0, 0, 0, 0
    for d in range(5000):
        for t in near[d]:
            if pos[t] < pos[d]: e_n += 1; e_c += t in out[d]
            else: l_n += 1; l_c += t in out[d]
    full = np.mean([len(l) >= M0 for l in lists]); ln = np.mean([len(l) for l in lists])
    print(f"{name}: covers earlier nearest {e_c/e_n:.3f} later nearest {l_c/l_n:.3f}; full lists {full:.3f} mean len {ln:.1f} of {M0}")
