"""Saved graphs searched in one process, single thread, one query a call, each ef for every graph in turn;
medians of ROUNDS rounds; QPS at recall 0.95 interpolated. python qps_docs.py FILE ROUNDS NAME=PATH..."""
import sys, time, h5py, numpy as np, vidx
path, rounds = sys.argv[1], int(sys.argv[2])
graphs = dict(a.split("=", 1) for a in sys.argv[3:])
with h5py.File(path, "r") as f:
    q = f["test"][:2000]; gt = f["neighbors"][:2000, :10]
idx = {k: vidx.load(v) for k, v in graphs.items()}
for i in idx.values(): i.threads = 1
EFS = [10, 12, 16, 20, 24, 32, 40, 48, 64]
qps = {k: {e: [] for e in EFS} for k in idx}; rec = {k: {} for k in idx}
for r in range(rounds):
    for e in EFS:
        for k, ix in idx.items():
            t0 = time.perf_counter(); I = np.empty((len(q), 10), np.int64)
            for j in range(len(q)): I[j] = ix.search(q[j], 10, ef=e)[1]
            qps[k][e].append(len(q) / (time.perf_counter() - t0))
            rec[k][e] = np.mean([len(set(a) & set(b)) for a, b in zip(I, gt)]) / 10
def at(k, target):
    es = EFS; rs = [rec[k][e] for e in es]; qs = [np.median(qps[k][e]) for e in es]
    for i in range(1, len(es)):
        if rs[i - 1] < target <= rs[i]:
            t = (target - rs[i - 1]) / (rs[i] - rs[i - 1]); return qs[i - 1] + t * (qs[i] - qs[i - 1])
    return float("nan")
for k in idx:
    print(k, " ".join(f"ef{e}:{rec[k][e]:.4f}/{np.median(qps[k][e]):.0f}" for e in EFS))
for k in idx:
    print(k, "QPS at recall 0.95:", round(at(k, 0.95)), "at 0.98:", round(at(k, 0.98)))
