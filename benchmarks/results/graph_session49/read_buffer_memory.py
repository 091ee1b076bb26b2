# read_buffer (up to 1e12 allowed) is reserved whole by a search, whatever the lists need.
import numpy as np, vidx, resource, sys, tempfile, os
rb = int(sys.argv[1])
post = os.path.join(tempfile.mkdtemp(), "rb.post")
X = np.random.default_rng(0).random((300, 8), dtype=np.float32)
i = vidx.Index(8, kind="spann", path=post, read_buffer=rb); i.add(X)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
try:
    D, I = i.search(X[0], k=1); r = f"top1 {I[0,0]}"
except Exception as e: r = f"{type(e).__name__}: {e}"
print(f"read_buffer={rb}: posting file {os.path.getsize(post)} bytes; search -> {r}; maxrss {before:.2f} -> {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1e6:.2f} GB; memory_usage {i.memory_usage()}")
