"""Search latency while an add relearns the codec: glove6b-50 natural order, a first add of FIRST rows then
one add of as many more (sign codes relearn at the doubling); a Python thread searches one query a call
throughout. python3 search_during_relearn.py PKG KIND QUANT FIRST"""
import os, sys, threading, time
sys.path.insert(0, sys.argv[1])
import h5py, numpy as np, vidx
kind, quant, first = sys.argv[2], sys.argv[3], int(sys.argv[4])
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    X = np.asarray(f["train"][:2 * first], dtype=np.float32); Q = np.asarray(f["test"][:200], dtype=np.float32)
idx = vidx.Index(50, "cosine", kind=kind, quant=quant, seed=0, threads=1)
idx.add(X[:first])
lat, stop = [], threading.Event()
def searcher():
    i = 0
    while not stop.is_set():
        a = time.perf_counter(); idx.search(Q[i % 200:i % 200 + 1], 10); lat.append(time.perf_counter() - a); i += 1
th = threading.Thread(target=searcher); th.start(); time.sleep(0.3)
n0 = len(lat); a = time.perf_counter(); idx.add(X[first:]); add_s = time.perf_counter() - a; n1 = len(lat)
time.sleep(0.2); stop.set(); th.join()
during = np.array(lat[n0:n1]) * 1e3
print(f"{kind} {quant} first {first}: add {add_s:.2f}s, searches during it {len(during)}, latency ms median {np.median(during):.3f} p99 {np.percentile(during, 99):.1f} max {during.max():.1f}", flush=True)
