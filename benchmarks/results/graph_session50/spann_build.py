import sys, time, numpy as np, h5py, os
sys.path.insert(0, sys.argv[1])
import vidx
f = h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r")
X = np.asarray(f["train"][:int(sys.argv[2])])
import tempfile
d = tempfile.mkdtemp()
idx = vidx.Index(dim=X.shape[1], metric="cosine", kind="spann", threads=1, path=os.path.join(d, "s.vidx"))
t = time.perf_counter(); c = time.process_time(); idx.add(X); print(f"spann add {time.perf_counter()-t:.2f}s cpu {time.process_time()-c:.2f}s")
