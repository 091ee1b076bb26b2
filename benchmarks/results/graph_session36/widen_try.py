import numpy as np, time, sys
sys.path.insert(0, '/work/main/tests')
import vidx
from conftest import brute_force, recall
rng = np.random.default_rng(1)
X = rng.standard_normal((160_000, 32)).astype(np.float32)
Q = rng.standard_normal((300, 32)).astype(np.float32)
_, truth = brute_force(X, Q, 10, "l2")
def build(M, batch):
    idx = vidx.Index(32, M=M, ef_construction=64, threads=2, seed=3)
    t = time.perf_counter()
    for i in range(0, len(X), batch):
        idx.add(X[i:i+batch])
        if M == 0: print("  after", i + batch, "M reads", idx.params["M"])
    return idx, time.perf_counter() - t
for M, batch in ((0, 20000),):
    idx, secs = build(M, batch)
    print(M, batch, f"{secs:.1f}s", idx.params["M"], [round(recall(idx.search(Q, k=10, ef=ef)[1], truth), 4) for ef in (32, 64, 128)], flush=True)
