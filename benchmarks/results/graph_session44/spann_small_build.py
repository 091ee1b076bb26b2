# SPANN built small then one large add: heads, entries read, recall, add time. glove-50 first 50k rows.
import sys, time, tempfile
import numpy as np, vidx
from vidx import datasets
growth = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
ds = datasets.load("glove6b-50-angular", download=False)
X = ds.train[:50000]; Q = ds.test[:1000]
# exact truth on the 50k subset (cosine)
Xn = X / np.linalg.norm(X, axis=1, keepdims=True); Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
gt = np.argsort(-Qn @ Xn.T, axis=1)[:, :10]
perm = np.random.default_rng(0).permutation(50000)
W = tempfile.mkdtemp()
for first in [50000, 10, 1000, 5000, 25000]:
    idx = vidx.Index(50, "cosine", kind="spann", path=f"{W}/p{first}", threads=2, rebuild_growth=growth)
    t = time.time(); idx.add(X[perm[:first]], ids=perm[:first], progress=False); b = time.time() - t
    t = time.time()
    if first < 50000: idx.add(X[perm[first:]], ids=perm[first:], progress=False)
    a = time.time() - t
    st = idx.stats()
    line = f"build {first:5d} ({b:4.1f}s) + add {50000-first:5d} ({a:4.1f}s): heads {idx.heads} rebuilt {st['rebuilds_on_growth']:.0f} splits {st['live_splits']:.0f} |"
    for p in [4, 16, 64]:
        idx.reset_stats(); _, I = idx.search(Q, 10, nprobe=p)
        r = np.mean([len(set(I[i]) & set(gt[i])) / 10 for i in range(len(Q))])
        line += f" np{p} {r:.4f} ({idx.stats()['entries_scanned']/len(Q):.0f} e/q)"
    print(line, flush=True)
