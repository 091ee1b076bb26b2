"""Build glove's first 100,000 rows in 10 adds, then time single-thread searches; print THP use."""
import json, sys, time
import numpy as np, h5py
import vidx
f = h5py.File('/root/.cache/vidx/glove6b-50-angular.hdf5')
X = f['train'][:100000]; Q = f['test'][:1000]
quant = sys.argv[1]
idx = vidx.Index(X.shape[1], 'cosine', kind='hnsw', quant=quant, threads=2)
t = time.perf_counter()
for part in np.array_split(X, 10):
    idx.add(part, progress=False)
build = time.perf_counter() - t
def huge():
    for l in open('/proc/self/smaps_rollup'):
        if l.startswith('AnonHugePages'): return int(l.split()[1]) // 1024
idx.threads = 1
times = []
for r in range(5):
    t = time.perf_counter()
    for q in Q: idx.search(q[None], k=10, ef=64)
    times.append(time.perf_counter() - t)
print(json.dumps(dict(quant=quant, build=round(build, 2), qps=round(1000 / np.median(times)), huge_MiB=huge(), mem_MiB=idx.memory_usage() >> 20)))
