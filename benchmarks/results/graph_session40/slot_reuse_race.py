# Concurrent remove + add (slot reuse) beside batch searches (graph.md section 40): every result
# must be an id whose row is at the reported distance, and filtered results must be allowed ids.
#   python slot_reuse_race.py PACKAGE_DIR hnsw SECONDS QUERIES_A_CALL
# (PACKAGE_DIR holds a vidx package copy.) Prints the violations, search calls and write rounds
# made, the index's memory every 500 rounds, then the time of 5 plain and 5 filtered batches
# once the churn has stopped.
import sys, threading, time, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
kind = sys.argv[2] if len(sys.argv) > 2 else "hnsw"
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
dim = 8
NQ = int(sys.argv[4]) if len(sys.argv) > 4 else 4
def vec(ids):
    ids = np.asarray(ids, dtype=np.int64)
    g = np.sin(np.outer(ids + 1, np.arange(1, dim + 1)) * 0.37) * 3
    return g.astype(np.float32)
if kind == "hnsw":
    idx = vidx.Index(dim=dim, metric="l2", kind=kind, M=8, ef_construction=40, threads=1)
elif kind == "spann":
    import tempfile, os
    idx = vidx.Index(dim=dim, metric="l2", kind=kind, threads=1, path=os.path.join(tempfile.mkdtemp(), "race.post"))
else:
    idx = vidx.Index(dim=dim, metric="l2", kind=kind, threads=1)
live = list(range(2000))
idx.add(vec(live), ids=np.array(live))
next_id = [100000]
stop = time.time() + seconds
bad = {"dist": 0, "filter": 0, "searches": 0, "writes": 0, "mem": []}
allowed = np.arange(0, 2000, 2)  # even ids of the first build; churned ids are >= 100000
allowed_set = set(allowed.tolist())
def writer():
    rng = np.random.default_rng(1)
    cur = list(range(1, 2000, 2)) + list(range(0, 2000, 2))  # removable pool
    pool = list(range(1000, 2000))
    while time.time() < stop:
        # remove some even (allowed) ids, re-add them later; add new ids into freed slots
        victims = rng.choice(1000, 20, replace=False) * 2
        idx.remove(victims)
        new = np.arange(next_id[0], next_id[0] + 20); next_id[0] += 20
        idx.add(vec(new), ids=new)
        idx.remove(new)
        idx.add(vec(victims), ids=victims)
        bad['writes'] += 1
        if bad['writes'] % 500 == 0: bad['mem'].append(idx.memory_usage())
def searcher(seed):
    rng = np.random.default_rng(seed)
    while time.time() < stop:
        q = rng.standard_normal((NQ, dim)).astype(np.float32) * 3
        if rng.random() < 0.5:
            D, I = idx.search(q, 10, filter=allowed)
            bad["filter"] += int(((I >= 0) & ~np.isin(I, allowed)).sum())
        else:
            D, I = idx.search(q, 10)
        m = I >= 0
        V = vec(np.where(m, I, 0).ravel()).reshape(I.shape + (dim,))
        true = ((q[:, None, :] - V) ** 2).sum(-1)
        bad["dist"] += int((m & (np.abs(true - D) > 1e-3 * np.maximum(1, true))).sum())
        bad["searches"] += 1
ts = [threading.Thread(target=writer)] + [threading.Thread(target=searcher, args=(s,)) for s in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]
print(kind, bad, len(idx), idx.memory_usage() if hasattr(idx,"memory_usage") else "", flush=True)
import time as _t
q = np.random.default_rng(9).standard_normal((2000, dim)).astype(np.float32) * 3
for f in [None, allowed]:
    t = _t.perf_counter()
    for _ in range(5): idx.search(q, 10, filter=f)
    print("after churn: 5 batches", "filtered" if f is not None else "plain", f"{_t.perf_counter()-t:.3f}s")
