# Median seconds of an add of CHUNK random rows into an HNSW graph of the first 50,000 glove rows.
import sys, time, h5py, numpy as np, vidx
chunk = int(sys.argv[1])
with h5py.File("/root/.cache/vidx/glove6b-50-angular.hdf5") as f:
    x = f["train"][:80000]
idx = vidx.Index(50, "cosine", seed=1, threads=2)
idx.add(x[:50000], progress=False)
times = []
rng = np.random.default_rng(0)
at = 50000
for r in range(60):
    t = time.perf_counter()
    idx.add(x[at:at + chunk], progress=False)
    times.append(time.perf_counter() - t)
    at += chunk
print(f"adds of {chunk}: median {np.median(times) * 1e3:.2f} ms")
