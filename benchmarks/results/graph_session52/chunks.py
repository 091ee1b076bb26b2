import os
# Documents of near-duplicate chunks fed document by document (sorted adds) or shuffled.
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx, time
from conftest import brute_force, recall
n_docs, per_doc, dim, spread, step = 5000, 20, 64, float(sys.argv[1]), 2000
from feeds import documents
x, lab, q, ql, centres = documents(spread)
_, gt = brute_force(x, q, 10, "l2")
efs = [10, 20, 40]
for name, order in (("doc order", np.arange(len(x))), ("shuffled", np.random.default_rng(2).permutation(len(x)))):
    for seed in (0,):
        idx = vidx.Index(dim, "l2", M=16, seed=seed, threads=2)
        t = time.perf_counter()
        for s in range(0, len(x), step): idx.add(x[order[s:s+step]], ids=order[s:s+step], progress=False)
        bt = time.perf_counter() - t
        idx.threads = 1
        res = []
        for e in efs:
            I = idx.search(q, 10, ef=e)[1]
            t = time.perf_counter()
            for r in range(3):
                for i in range(len(q)): idx.search(q[i:i+1], 10, ef=e)
            qps = 3 * len(q) / (time.perf_counter() - t)
            res.append(f"ef{e} {recall(I, gt):.4f} {qps:.0f}qps")
        import hnswlib
        h = hnswlib.Index("l2", dim); h.init_index(len(x), M=16, ef_construction=200, random_seed=seed); h.set_num_threads(2)
        for s_ in range(0, len(x), step): h.add_items(x[order[s_:s_+step]], order[s_:s_+step])
        hr = []
        for e in efs:
            h.set_ef(e); hr.append(f"{recall(h.knn_query(q, k=10)[0].astype(np.int64), gt):.4f}")
        res.append("| hnswlib " + " ".join(hr))
        print(f"spread {spread} {name:9s} build {bt:.2f}s", " ".join(res), flush=True)
