import sys, struct
sys.path.insert(0, "/tmp/r55")
import numpy as np, vidx
from h import graph, chunks, split_docs, slot_ids, reachable
x, document, q = chunks(9, documents=500)
docs = split_docs(document)
c = 3; seed = 0
rng = np.random.default_rng(seed)
boiler = rng.standard_normal((2, 32)).astype(np.float32)
idx = vidx.Index(32, "l2", M=8, ef_construction=64, seed=seed, threads=2, quant="binary")
nid = 100000
for i, r in enumerate(docs):
    v = np.concatenate([x[r], np.repeat(boiler[i % 2][None], c, 0)])
    ids = np.concatenate([r, np.arange(nid, nid + c)]); nid += c
    perm = rng.permutation(len(v))
    idx.add(v[perm], ids=ids[perm], progress=False)
sid = slot_ids(idx); G = graph(idx); R = reachable(G)
isb = (sid >= 100000)
grp = np.flatnonzero(isb)
# in-links to boilerplate from non-boilerplate, out-links from boilerplate to non-boilerplate
inn = sum(int(isb[l].sum()) for s, l in enumerate(G["l0"]) if not isb[s])
out = sum(int((~isb[l]).sum()) for s, l in enumerate(G["l0"]) if isb[s])
within = sum(int(isb[l].sum()) for s, l in enumerate(G["l0"]) if isb[s])
print("boiler rows", len(grp), "reachable", np.mean([s in R for s in grp]).round(3),
      "non-boiler reachable", np.mean([s in R for s in np.flatnonzero(~isb)]).round(3))
print("links chunk->boiler", inn, "boiler->chunk", out, "boiler->boiler", within)
print("mean list len boiler", np.mean([len(G['l0'][s]) for s in grp]).round(2), "chunks", np.mean([len(G['l0'][s]) for s in np.flatnonzero(~isb)]).round(2))
# how many chunks have >=1 boiler link
print("chunks with a boiler link", np.mean([isb[G['l0'][s]].any() for s in np.flatnonzero(~isb)]).round(3))
print("entry", G["entry"], "is boiler", isb[G["entry"]], "levels of boiler", np.bincount(G["levels"][grp]))
indeg = np.zeros(len(sid), int)
for s, l in enumerate(G["l0"]):
    for t in l: indeg[t] += 1
g0 = grp
print("group in-degree 0:", int((indeg[g0] == 0).sum()), "median in-degree", np.median(indeg[g0]))
# lists of group members: how many of their links are to same group (same boiler vector) vs other boiler vs chunks
which = np.where(isb, ((sid - 100000) // 3) % 2, -1)
tot = {"same": 0, "other": 0, "chunk": 0}
for s in g0:
    for t in G["l0"][s]:
        tot["same" if which[t] == which[s] else ("chunk" if which[t] < 0 else "other")] += 1
print("group members' links", tot)
# in-links to the group from chunks: per add position?
