import sys, numpy as np, h5py, time
sys.path.insert(0, "/tmp/ab/s31b")
from vidx.bench import peers
name = sys.argv[1]; variant = sys.argv[2] if len(sys.argv) > 2 else "sq8"
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    X = f["train"][:].astype(np.float32); metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
    rows = (np.arange(1000) * len(f["test"])) // 1000
    Q = f["test"][rows].astype(np.float32); T = f["neighbors"][rows, :10]
def rec(found): return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, T)])
for lib in ["glass", "svs"]:
    a = peers.ADAPTERS[lib](variant if lib == "glass" else "lvq8"); a.build(X, metric, 16, 200, 2)
    for ef in (4, 6, 8, 10, 12):
        a.set_ef(ef)
        single = np.vstack([a.query_one(q, 10) for q in Q])
        t = time.perf_counter(); batch = a.query_batch(Q, 10, 2); bt = time.perf_counter() - t
        print(lib, ef, "single recall", round(rec(single), 4), "batch recall", round(rec(batch), 4), "batch qps", round(1000 / bt))
    a.close()
