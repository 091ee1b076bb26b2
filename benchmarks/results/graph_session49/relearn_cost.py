"""The time of an add that makes a relearn due but keeps the codec (the distance check runs):
python relearn_cost.py DIM QUANT KIND, e.g. 1536 lvq4 flat (written by a reviewer)."""
import sys, time, hashlib, numpy as np, vidx
DIM = int(sys.argv[1]); quant = sys.argv[2]; kind = sys.argv[3]
rng = np.random.default_rng(0)
X = rng.standard_normal((8000, DIM)).astype(np.float32)
ts = []
for r in range(5):
    idx = vidx.Index(DIM, "l2", kind=kind, quant=quant, threads=1)
    idx.add(X[:1000])
    t = time.perf_counter(); idx.add(X[1000:8000]); ts.append(time.perf_counter() - t)
h = hashlib.sha1(bytes(idx.to_bytes())).hexdigest()[:10]
print(f"{DIM} {quant} {kind}: add of 7000 rows (relearn due) median {1e3*np.median(ts):.0f} ms min {1e3*min(ts):.0f} {h}")
