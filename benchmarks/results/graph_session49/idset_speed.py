"""IdSet construction time, medians of 3: python idset_speed.py PACKAGE_FOLDER (run alternating main / new2)."""
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
rng = np.random.default_rng(0)
for name, ids in (("1.43M sorted", np.arange(1_430_000)), ("1M random of 1e7", rng.integers(0, 10**7, 10**6))):
    ts = []
    for _ in range(3):
        t = time.perf_counter(); vidx.IdSet(ids); ts.append(time.perf_counter() - t)
    print(sys.argv[1], name, f"median {sorted(ts)[1]:.3f} s")
