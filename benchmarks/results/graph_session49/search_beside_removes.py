"""Flat (and other kinds) search under concurrent writes returns fewer than k results
(-1 / +inf padding) although thousands of rows are live the whole time.
usage: repro_short_results.py KIND WRITEOP(remove|upsert|add) SECONDS"""
import sys, threading, time, numpy as np, vidx
kind = sys.argv[1] if len(sys.argv) > 1 else "flat"
wop = sys.argv[2] if len(sys.argv) > 2 else "remove"
secs = float(sys.argv[3]) if len(sys.argv) > 3 else 10
D = 16; N = 5000
rng = np.random.default_rng(0)
X = rng.normal(size=(N + 200000, D)).astype(np.float32)
import tempfile, os
kw = {"path": os.path.join(tempfile.mkdtemp(), "short.postings")} if kind == "spann" else {}
idx = vidx.Index(D, "l2", kind=kind, threads=2, **kw)
idx.add(X[:N], ids=np.arange(N))      # ids 0..N-1 are never touched again
stop = threading.Event()
def writer():
    i = N
    while not stop.is_set():
        ids = np.arange(i, i + 20)
        if wop == "remove":          # add 20 new rows, remove them again
            idx.add(X[ids], ids=ids); idx.remove(ids)
        elif wop == "upsert":        # add 20 rows, upsert them (same vectors), remove them
            idx.add(X[ids], ids=ids); idx.upsert(X[ids], ids=ids); idx.remove(ids)
        elif wop == "upsert_only":   # upsert the same 20 rows forever
            idx.upsert(X[N:N + 20], ids=np.arange(N, N + 20))
        elif wop == "readd":         # remove and re-add the same 20 rows
            ids = np.arange(N, N + 20)
            if N in idx: idx.remove(ids)
            idx.add(X[ids], ids=ids)
        i += 20
        if i + 20 >= len(X): i = N
w = threading.Thread(target=writer, daemon=True); w.start()
Q = rng.normal(size=(16, D)).astype(np.float32)
t0 = time.time(); calls = short = 0; example = None
while time.time() - t0 < secs:
    k = 24
    Dd, I = idx.search(Q, k=k)
    calls += 1
    n = (I >= 0).sum(1)
    if (n < k).any():
        short += 1
        if example is None:
            qi = int(np.argmin(n)); example = (qi, n[qi], I[qi].tolist(), Dd[qi].tolist())
stop.set(); w.join()
print(f"{kind} writer={wop}: {calls} batch searches, {short} returned fewer than k=24 results while >= {N} rows were live")
if example: print("example query", example[0], "got", example[1], "results:", example[2])
