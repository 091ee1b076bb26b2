import sys, time, statistics, numpy as np, h5py, vidx
with h5py.File('/root/.cache/vidx/glove6b-50-angular.hdf5') as f:
    rows = (np.arange(2000) * len(f['test'])) // 2000
    q = f['test'][rows]
idx = vidx.load('/tmp/ab/glove.vidx')
idx.search(q, 10, ef=96)
t = []
for r in range(7):
    s = time.perf_counter(); idx.search(q, 10, ef=96); t.append(time.perf_counter() - s)
print(sys.argv[1], round(len(q) / statistics.median(t)))
