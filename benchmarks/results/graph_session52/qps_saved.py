# Search speed of graphs built by two packages, in one process (the search code is the same):
#   qps_saved.py build OUT.vidx      (with the package on PYTHONPATH: the documents in document order)
#   qps_saved.py time OLD.vidx NEW.vidx
# Single thread, one query per call, each ef timed for both graphs in turn, medians of five rounds.
import os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import numpy as np, vidx
from conftest import brute_force, recall
n_docs, per_doc, dim, spread, step = 5000, 20, 64, 0.1, 2000
from feeds import documents
x, lab, q, ql, centres = documents(spread)
if sys.argv[1] == "build":
    idx = vidx.Index(dim, "l2", M=16, seed=0, threads=2)
    for s in range(0, len(x), step): idx.add(x[s:s + step], progress=False)
    idx.save(sys.argv[2]); sys.exit()
_, gt = brute_force(x, q, 10, "l2")
graphs = {name: vidx.load(path) for name, path in zip(("old", "new"), sys.argv[2:4])}
efs = [10, 14, 20, 28, 40, 56, 80]
found = {g: {} for g in graphs}
for g, idx in graphs.items():
    idx.threads = 1
    for e in efs: found[g][e] = [recall(idx.search(q, 10, ef=e)[1], gt), []]
for r in range(5):
    for e in efs:
        for g, idx in graphs.items():
            t = time.perf_counter()
            for i in range(len(q)): idx.search(q[i:i + 1], 10, ef=e)
            found[g][e][1].append(len(q) / (time.perf_counter() - t))
def at(g, target):  # QPS at a recall, interpolated between the grid's points
    pts = [(found[g][e][0], np.median(found[g][e][1])) for e in efs]
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1: return q0 + (q1 - q0) * (target - r0) / (r1 - r0) if r1 > r0 else q0
    return float("nan")
for e in efs:
    print(f"ef {e:3d} " + " | ".join(f"{g} recall {found[g][e][0]:.4f} {np.median(found[g][e][1]):7.0f} qps" for g in graphs))
for target in (0.85, 0.90, 0.93):
    print(f"at recall {target}: old {at('old', target):.0f} qps, new {at('new', target):.0f} qps, new/old {at('new', target) / at('old', target):.2f}x")
