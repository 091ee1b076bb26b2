# Build time of one feed in rows that come in runs: buildtime.py {tight|chunks|perdoc|mixture}; prints seconds.
import sys, time, numpy as np, vidx
case = sys.argv[1]
from feeds import tight_clusters, documents, mixture
if case == "tight":  # 8,000 rows of 400 tight clusters, sorted adds of 400
    x, labels, _, _, _ = tight_clusters(queries=0)
    x, step = x[np.argsort(labels, kind="stable")], 400
elif case == "chunks":  # 5,000 documents of 20 near-copies (64-d), adds of 2,000 in document order
    x, step = documents(0.1)[0], 2000
elif case == "perdoc":  # the same, one document (20 rows) an add (session 53)
    x, step = documents(0.1)[0], 20
else:  # 24,000 x 32 Gaussian mixture sorted by cluster, adds of 4,000
    x, step = mixture()[0], 4000
idx = vidx.Index(x.shape[1], "l2", M=16, seed=0, threads=2)
t = time.perf_counter()
for s in range(0, len(x), step): idx.add(x[s:s + step], progress=False)
print(f"{time.perf_counter() - t:.3f}")
