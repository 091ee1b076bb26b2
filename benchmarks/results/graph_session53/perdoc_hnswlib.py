# hnswlib on the documents fed in document order, ROWS rows an add (the reference for perdoc.py / ckpt.py).
import os, sys
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, hnswlib
from conftest import brute_force, recall
from feeds import documents
x, lab, q, ql, c = documents(0.1)
_, gt = brute_force(x, q, 10, "l2")
for step in map(int, sys.argv[1].split(",")):
    rs = []
    for seed in (0, 1):
        h = hnswlib.Index("l2", 64); h.init_index(len(x), M=16, ef_construction=200, random_seed=seed); h.set_num_threads(2)
        for s in range(0, len(x), step): h.add_items(x[s:s+step], np.arange(s, min(s + step, len(x))))
        row = []
        for e in (10, 20, 40):
            h.set_ef(e); row.append(recall(h.knn_query(q, k=10)[0].astype(np.int64), gt))
        rs.append(row)
    print(f"hnswlib adds of {step}", " ".join(f"ef{e} {v:.4f}" for e, v in zip((10, 20, 40), np.mean(rs, 0))), flush=True)
