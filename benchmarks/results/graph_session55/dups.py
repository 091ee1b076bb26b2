import sys; sys.path[:0] = ["/work/main/tests"]
import numpy as np, vidx
import test_row_order as t
for seed in (2,):
    x, document, q = t.documents_of_chunks(seed)
    for feed in ("per_document", "one add in order", "adds of 500"):
        idx = vidx.Index(32, M=8, ef_construction=64, seed=seed, threads=2)
        if feed == "per_document":
            parts = np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1)
        elif feed == "adds of 500":
            parts = np.array_split(np.arange(len(x)), len(x) // 500)
        else:
            parts = [np.arange(len(x))]
        phases = set()
        for rows in parts: idx.add(x[rows], ids=rows, progress=lambda p, d, tot: phases.add(p))
        lists = t.level0_lists(idx)
        dup = sum(len(set(l.tolist())) != len(l) for l in lists)
        print(vidx.__file__.split("/")[3], seed, feed, sorted(phases), "lists with a repeat:", dup, "of", len(lists))
