import sys, time, h5py, numpy as np
sys.path.insert(0, sys.argv[1]); import vidx
ix = vidx.load(sys.argv[2]); ix.threads = 1; ef = int(sys.argv[3])
with h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5") as f: Q = f["test"][:].astype(np.float32)
reps = int(sys.argv[4]); t = time.perf_counter()
for _ in range(reps): ix.search(Q, k=10, ef=ef)
dt = time.perf_counter() - t
print(f"{sys.argv[2]}: {dt / (reps * len(Q)) * 1e6:.2f} us/query", file=sys.stderr)
