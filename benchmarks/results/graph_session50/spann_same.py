import sys, numpy as np, h5py, os, tempfile, hashlib
sys.path.insert(0, sys.argv[1])
import vidx
f = h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r")
X = np.asarray(f["train"][:30000]); Q = np.asarray(f["test"][:200])
for metric in ["cosine", "l2"]:
  for quant in ["none", "lvq8"]:
    d = tempfile.mkdtemp()
    idx = vidx.Index(dim=50, metric=metric, kind="spann", quant=quant, threads=2, path=os.path.join(d, "s.vidx"))
    idx.add(X)
    D, I = idx.search(Q, k=10)
    print(metric, quant, hashlib.sha1(I.tobytes() + D.tobytes()).hexdigest()[:12], idx.stats().get("heads", None) if hasattr(idx, "stats") else "")
