"""Sequential churn on glove6b-50's first rows (cosine HNSW, 2 threads): rounds of removing a share of
the live rows and adding as many new ones; then every live row searches itself at k=1, ef 400, and a row
not found (not at distance 0 from a duplicate either) counts as lost. PYTHONPATH=<package> python
churn_sequential.py [rows 50000] [rounds 20] [share 0.05] [quant f32_split]"""
import sys, time
import numpy as np, h5py, os
import vidx
n0 = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
frac = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
quant = sys.argv[4] if len(sys.argv) > 4 else "f32_split"
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    pool = np.asarray(f["train"][: n0 * 3], np.float32)
rng = np.random.default_rng(0)
idx = vidx.Index(50, "cosine", kind="hnsw", quant=quant, threads=2, seed=1)
idx.add(pool[:n0], np.arange(n0))
live = set(range(n0)); nxt = n0
t = time.time()
for r in range(rounds):
    m = int(n0 * frac)
    gone = rng.choice(sorted(live), m, replace=False)
    idx.remove(gone); live.difference_update(gone.tolist())
    ids = np.arange(nxt, nxt + m); idx.add(pool[nxt:nxt + m], ids); live.update(ids.tolist()); nxt += m
ids = np.array(sorted(live))
D, I = idx.search(pool[ids], 1, ef=400)
lost = ids[I[:, 0] != ids]
# a lost row may be a duplicate vector (glove has some): count those whose found row is not at distance 0
dup = np.isclose(D[I[:, 0] != ids, 0], 0, atol=1e-6).sum()
print(f"n0 {n0} rounds {rounds} frac {frac} quant {quant}: live {len(ids)}, not self-found {len(lost)} (of which at distance 0: {dup}) in {time.time()-t:.1f}s", flush=True)
