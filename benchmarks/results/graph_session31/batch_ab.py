import sys, time, h5py, numpy as np, statistics
sys.path.insert(0, sys.argv[1])
import vidx
ix = vidx.load(sys.argv[2]); ix.threads = 2
name = sys.argv[4]
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    Q = f["test"][:].astype(np.float32)
ef = int(sys.argv[3]); ix.search(Q[:500], k=10, ef=ef)
ts = []
for _ in range(7):
    t = time.perf_counter(); ix.search(Q, k=10, ef=ef); ts.append(time.perf_counter() - t)
print(sys.argv[1].split('/')[-1], round(len(Q) / statistics.median(ts)))
