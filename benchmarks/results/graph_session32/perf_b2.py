import sys, time, h5py, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
ix = vidx.load(sys.argv[2]); ix.threads = int(sys.argv[4])
with h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5") as f:
    Q = f["test"][:].astype(np.float32)
ef = int(sys.argv[3])
t = time.perf_counter(); n = 0
while time.perf_counter() - t < 10:
    ix.search(Q, k=10, ef=ef); n += len(Q)
print(n / (time.perf_counter() - t), "qps")
