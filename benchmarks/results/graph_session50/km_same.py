import sys, numpy as np, subprocess, json, pickle, hashlib
# run kmeans with a package (argv[1]) on many cases, print a hash of each result
sys.path.insert(0, sys.argv[1])
import vidx
rng = np.random.default_rng(3)
cases = []
for (n, d, k) in [(5000, 2, 50), (5000, 3, 7), (20000, 8, 512), (10000, 17, 300), (8000, 50, 64), (3000, 128, 100), (2000, 300, 33), (1000, 5, 1000), (500, 1, 10)]:
    cases.append(("gauss", n, d, k, rng.standard_normal((n, d)).astype(np.float32)))
    cases.append(("offset", n, d, k, (1000 + rng.standard_normal((n, d))).astype(np.float32)))
    cases.append(("ints", n, d, k, rng.integers(0, 3, (n, d)).astype(np.float32)))
    cases.append(("tight", n, d, k, (rng.standard_normal((k, d))[rng.integers(0, k, n)] * 100 + 1e-3 * rng.standard_normal((n, d))).astype(np.float32)))
for name, n, d, k, X in cases:
    r = vidx.kmeans(X, k, iters=8, seed=5, threads=2)
    h = hashlib.sha1(r.centroids.tobytes() + np.asarray(r.assignment).tobytes()).hexdigest()[:12]
    print(name, n, d, k, h, f"{r.inertia:.9g}", r.iterations)
