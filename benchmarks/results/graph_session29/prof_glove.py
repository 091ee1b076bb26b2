import sys, time, h5py, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
idx = vidx.load(sys.argv[2]); idx.threads = 1
ef = int(sys.argv[3]); reps = int(sys.argv[4])
with h5py.File("/root/.cache/vidx/glove6b-50-angular.hdf5") as f:
    rows = (np.arange(5000) * len(f["test"])) // 5000
    Q = f["test"][rows]; T = f["neighbors"][rows, :10]
idx.search(Q[:1], k=10, ef=ef)
best = 1e9
for rep in range(reps):
    t = time.perf_counter()
    found = [idx.search(q[None], k=10, ef=ef)[1][0] for q in Q]
    best = min(best, time.perf_counter() - t)
rec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, T)])
print(f"ef {ef} recall {rec:.4f} us/query {best / len(Q) * 1e6:.2f}")
