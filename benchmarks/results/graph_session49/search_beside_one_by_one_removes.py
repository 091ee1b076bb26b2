"""Searches beside removes made one row at a time, the removed rows each query's nearest: batch calls
that came back short of k. python search_beside_one_by_one_removes.py hnsw|flat"""
import sys, threading, time, numpy as np, vidx
kind = sys.argv[1]
rng = np.random.default_rng(0)
D, N = 16, 3000
X = rng.normal(size=(N, D)).astype(np.float32)
Q = rng.normal(size=(400, D)).astype(np.float32)
near = (Q + 1e-3 * rng.normal(size=Q.shape)).astype(np.float32)  # rows every query finds first
idx = vidx.Index(D, "l2", kind=kind, threads=2)
idx.add(X)
stop = threading.Event()
def churn():
    ids = np.arange(10**6, 10**6 + len(near))
    while not stop.is_set():
        idx.add(near, ids=ids)
        for i in ids:
            idx.remove(i)
t = threading.Thread(target=churn); t.start()
short = calls = 0
t0 = time.time()
while calls < 200:
    _, I = idx.search(Q, k=10)
    short += int((I < 0).any()); calls += 1
stop.set(); t.join()
print(kind, calls, "short", short, f"{time.time()-t0:.1f}s")
