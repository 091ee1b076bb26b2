"""rabitq: copies of one vector, 2 an add with document chunks: copies' distinct heads and unreachable rows."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
x, document, q = documents_of_chunks(3, documents=300, dim=16)
rng = np.random.default_rng(0); bp = rng.standard_normal((1, 16)).astype(np.float32)
idx = vidx.Index(16, "l2", quant="rabitq", M=6, ef_construction=40, seed=0, threads=2)
nid = 10 ** 6
for rows in np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1):
    idx.add(np.concatenate([x[rows], np.repeat(bp, 2, 0)]), ids=np.concatenate([rows, [nid, nid + 1]]), progress=False); nid += 2
sid = slot_ids(idx); H = heads(idx); g, reach, _, _ = graph_stats(idx)
cs = np.flatnonzero(sid >= 10 ** 6)
un = [s for s in range(len(sid)) if s not in reach]
nb = H.shape[1] - 12
print(PKG, "copies", len(cs), "distinct heads", len({H[s].tobytes() for s in cs}), "distinct sign bits", len({H[s][:nb].tobytes() for s in cs}),
      "unreachable", len(un), "of which copies", int(np.sum(sid[un] >= 10 ** 6)))
_, f = idx.search(bp, k=len(cs), ef=len(cs) + 50); print(" copies found", int(np.isin(f[0], sid[cs]).sum()))
