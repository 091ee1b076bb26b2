"""Concurrent churn on glove6b-50's first rows (cosine HNSW, 2 threads): one Python thread adds `rounds`
batches of m new rows while another removes `rounds` random draws of m of the first rows; then every
live row searches itself at k=1, ef 400 (as churn_sequential.py).
PYTHONPATH=<package> python churn_concurrent.py ROWS ROUNDS M [quant]"""
import sys, time, threading
import numpy as np, h5py, os
import vidx
n0 = int(sys.argv[1]); rounds = int(sys.argv[2]); m = int(sys.argv[3]); quant = sys.argv[4] if len(sys.argv) > 4 else "f32_split"
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    pool = np.asarray(f["train"][: n0 + rounds * m], np.float32)
idx = vidx.Index(50, "cosine", kind="hnsw", quant=quant, threads=2, seed=1)
idx.add(pool[:n0], np.arange(n0))
rng = np.random.default_rng(0)
removed = []
lock = threading.Lock()
def adder():
    for r in range(rounds):
        ids = np.arange(n0 + r * m, n0 + (r + 1) * m)
        idx.add(pool[ids], ids)
def remover():
    for r in range(rounds):
        gone = rng.choice(n0, m, replace=False)
        gone = np.setdiff1d(gone, np.array(removed, np.int64))
        idx.remove(gone, ignore_missing=True); removed.extend(gone.tolist())
ta, tr = threading.Thread(target=adder), threading.Thread(target=remover)
t = time.time(); ta.start(); tr.start(); ta.join(); tr.join()
live = np.setdiff1d(np.arange(n0 + rounds * m), np.array(removed, np.int64))
D, I = idx.search(pool[live], 1, ef=400)
miss = I[:, 0] != live
dup = np.isclose(D[miss, 0], 0, atol=1e-6).sum()
print(f"n0 {n0} rounds {rounds} m {m} {quant}: live {len(live)}, not self-found {miss.sum()} (dist 0: {dup}) {time.time()-t:.1f}s", flush=True)
