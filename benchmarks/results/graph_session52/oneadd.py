import os
import sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx, time
from conftest import brute_force, recall
def run(name, x, q, order, efs, **kw):
    _, gt = brute_force(x, q, 10, "l2")
    rs = []; ts = []
    for seed in (0, 1):
        idx = vidx.Index(x.shape[1], "l2", seed=seed, threads=2, **kw)
        t = time.perf_counter(); idx.add(x[order], ids=order, progress=False); ts.append(time.perf_counter() - t)
        rs.append([recall(idx.search(q, 10, ef=e)[1], gt) for e in efs])
    print(f"{name}: build {np.mean(ts):.2f}s", " ".join(f"ef{e} {v:.4f}" for e, v in zip(efs, np.mean(rs, 0))), flush=True)
from feeds import tight_clusters, documents
x, lab, q, _, _ = tight_clusters()
srt = np.argsort(lab, kind="stable")
run("tight one add sorted M12/64", x, q, srt, [10, 32], M=12, ef_construction=64)
run("tight one add sorted defaults", x, q, srt, [10, 32])
run("tight one add shuffled M12/64", x, q, np.random.default_rng(1).permutation(8000), [10, 32], M=12, ef_construction=64)
x, _, q, _, _ = documents(0.1)
run("chunks one add doc order", x, q, np.arange(len(x)), [10, 20, 40], M=16)
run("chunks one add shuffled", x, q, np.random.default_rng(2).permutation(len(x)), [10, 20, 40], M=16)
