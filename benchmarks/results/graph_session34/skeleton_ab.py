import os, sys, time, h5py, numpy as np
sys.path.insert(0, os.environ.get("PKG", "/tmp/ab/late")); sys.path.insert(0, "/work/main/benchmarks")
import vidx
from vidx.datasets import spread_rows
from head_to_head import ORDERS
name, order_name = sys.argv[1], sys.argv[2]
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    X = f["train"][:]; rows = spread_rows(len(f["test"]), 5000); Q = f["test"][rows]; T = f["neighbors"][rows, :10]
    metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
order = ORDERS[order_name](X); Xo = np.ascontiguousarray(X[order])
efs = [int(e) for e in sys.argv[3].split(",")]
idx = vidx.Index(dim=X.shape[1], metric=metric, threads=2)
t = time.perf_counter(); idx.add(Xo, ids=order.astype(np.int64)); bt = time.perf_counter() - t
def rec(I): return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, T)]))
print(name, order_name, "skeleton", os.environ.get("VIDX_SKELETON", "0.3"), "build %.1f s" % bt,
      " ".join("ef %d %.4f" % (ef, rec(idx.search(Q, k=10, ef=ef)[1])) for ef in efs), flush=True)
