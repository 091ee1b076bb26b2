import sys; sys.path.insert(0, "/work/main/tests")
import numpy as np, vidx
import test_row_order as t
from conftest import brute_force, recall
found, shuffled, own = [], [], []
for seed in (0, 1, 2):
    x, document, q = t.documents_of_chunks(seed)
    _, truth = brute_force(x, q, 10, "l2")
    idx = vidx.Index(x.shape[1], M=8, ef_construction=64, seed=seed, threads=2)
    for rows in np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1):
        idx.add(x[rows], ids=rows, progress=False)
    found.append(recall(idx.search(q, k=10, ef=t.EF)[1], truth))
    lists = t.level0_lists(idx)
    owns = [np.flatnonzero(document == d) for d in range(document.max() + 1)]
    hits = []
    for row in range(0, len(x), 7):
        m = owns[document[row]][owns[document[row]] != row]
        hits.append(m[np.argmin(((x[m] - x[row]) ** 2).sum(1))] in lists[row])
    own.append(np.mean(hits))
    mixed = np.random.default_rng(seed).permutation(len(x))
    w = vidx.Index(x.shape[1], M=8, ef_construction=64, seed=seed, threads=2); w.add(x[mixed], ids=mixed, progress=False)
    shuffled.append(recall(w.search(q, k=10, ef=t.EF)[1], truth))
print(vidx.__file__.split("/")[3], "found", np.round(found, 4), np.mean(found).round(4), "shuffled", np.mean(shuffled).round(4), "own", np.round(own, 3))
