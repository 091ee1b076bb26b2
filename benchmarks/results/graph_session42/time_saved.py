import sys, time, h5py, numpy as np, vidx
path, name, ef = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    q = f["test"][::10][:1000]
idx = vidx.load(path)
idx.search(q[:50], 10, ef=ef)
I_all = []
best = []
for r in range(3):
    t = time.perf_counter()
    for v in q:
        I_all.append(idx.search(v, 10, ef=ef)[1])
    best.append(len(q) / (time.perf_counter() - t))
import hashlib; print(f"{np.median(best):.0f} {hashlib.md5(np.vstack(I_all[:len(q)]).tobytes()).hexdigest()[:10]}")
