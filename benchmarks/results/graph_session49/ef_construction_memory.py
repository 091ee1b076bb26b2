# ef_construction (allowed up to 1e9) sizes each build thread's beam before it is clamped to the
# index size: a 300-row HNSW add holds ~8 bytes x ef_construction per thread.
import numpy as np, vidx, resource, sys
ef = int(sys.argv[1]); threads = int(sys.argv[2])
X = np.random.default_rng(0).random((300, 16), dtype=np.float32)
i = vidx.Index(16, kind="hnsw", ef_construction=ef, threads=threads); i.add(X)
print(f"ef_construction={ef} threads={threads}: 300 rows, maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1e6:.2f} GB; top1 {i.search(X[7], k=1)[1][0,0]}")
