import os
import numpy as np
n_docs, per_doc, dim, spread = 5000, 20, 64, 0.1
from feeds import documents
x, lab, _, _, centres = documents(spread)
dc = ((centres[:, None, :] - centres[None]) ** 2).sum(-1); np.fill_diagonal(dc, np.inf)
def select(o, cand, M=16, a=1.05):
    d = ((x[cand] - x[o]) ** 2).sum(1); order = np.argsort(d); kept = []
    for i in order:
        c = cand[i]
        if all(a * ((x[c] - x[k]) ** 2).sum() >= d[i] for k in kept): kept.append(c)
        if len(kept) >= M: break
    return kept
res = {"in beam": [], "kept": [], "kept_a144": []}
for S in range(3000, 5000, 97):
    o = S * per_doc + 10  # a chunk in the middle of doc S, prior rows: all earlier docs + first 10 chunks of S
    prior = np.arange(o)
    d = ((x[prior] - x[o]) ** 2).sum(1); beam = prior[np.argsort(d)[:200]]
    near_prior = [t for t in np.argsort(dc[S]) if t < S][:5]
    bd = set(lab[beam]); k = set(lab[select(o, beam)]); k2 = set(lab[select(o, beam, a=1.44)])
    res["in beam"].append(np.mean([t in bd for t in near_prior])); res["kept"].append(np.mean([t in k for t in near_prior])); res["kept_a144"].append(np.mean([t in k2 for t in near_prior]))
print({k: round(float(np.mean(v)), 3) for k, v in res.items()})
