import os, sys, time, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/late"))
import vidx
from glove_spread import glove_spread, recall_at_10
out = sys.argv[1]
X, Q, T = glove_spread()
def rec(I): return recall_at_10(I, T)
idx = vidx.Index(dim=50, metric="cosine", threads=2)
t = time.perf_counter(); idx.add(X); bt = time.perf_counter() - t
idx.save(out)
print(os.environ.get("VIDX_LATE_EF", "1"), "build %.2f s" % bt, " ".join("ef %d %.4f" % (ef, rec(idx.search(Q, k=10, ef=ef)[1])) for ef in (32, 64, 96, 128, 192)), flush=True)
