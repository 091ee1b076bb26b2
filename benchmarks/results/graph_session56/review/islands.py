"""Documents fed one a call: how many documents' level-0 lists link nowhere outside the document
(out) and how many no other document links into (in). islands.py metric M"""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
metric, M = sys.argv[1], int(sys.argv[2])
res = []
for seed in range(3):
    x, document, q = documents_of_chunks(seed, documents=600, dim=32)
    idx = vidx.Index(32, metric, M=M, ef_construction=64, seed=seed, threads=2)
    for rows in np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1):
        idx.add(x[rows], ids=rows, progress=False)
    g = hnsw_graph(idx); sid = slot_ids(idx); doc_of_slot = document[sid]
    D = document.max() + 1
    out_ext = np.zeros(D, bool); in_ext = np.zeros(D, bool)
    for s, l in enumerate(g["l0"]):
        for v in l.tolist():
            if doc_of_slot[v] != doc_of_slot[s]:
                out_ext[doc_of_slot[s]] = True; in_ext[doc_of_slot[v]] = True
    own_only = np.mean([all(doc_of_slot[v] == doc_of_slot[s] for v in l.tolist()) for s, l in enumerate(g["l0"])])
    res.append((np.mean(~out_ext), np.mean(~in_ext), own_only))
r = np.mean(res, 0)
print(PKG, metric, "M", M, "docs with no level-0 link out %.3f, none in %.3f; rows whose level-0 list is all own document %.3f" % tuple(r))
