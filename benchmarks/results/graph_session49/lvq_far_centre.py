"""vidx defect repro: dim-1 LVQ-8 (and the 1-bit codecs re-ranked with LVQ-8) report search distances
that disagree with the stored vectors (get() is accurate), ranking rows wrongly, after the codec was
first trained on one row of a different scale and then learnt again.
Run: PYTHONPATH=<package> python3 lvq_far_centre.py"""
import numpy as np, vidx
rng = np.random.default_rng(0)
X = np.abs(rng.standard_normal((200, 1))).astype(np.float32)      # values in [0, ~2.5]
for quant in ["lvq8", "rabitq", "lvq4x8"]:
  for first in [None, 100.0]:
    idx = vidx.Index(1, "l2", kind="flat", quant=quant, threads=1)
    if first is not None:
        idx.add(np.array([[first]], np.float32), ids=[1000])          # codec learns from this one row
    idx.add(X, ids=np.arange(200))                                    # 201 rows >= 8x: codec learns again
    q = np.array([[0.21017557]], np.float32)
    D, I = idx.search(q, k=5)
    V, exact = idx.get(I[0])
    true = (X[I[0], 0].astype(np.float64) - q[0, 0]) ** 2
    bf = np.argsort((X[:, 0].astype(np.float64) - q[0, 0]) ** 2)[:5]
    print(f"{quant:7s} first_row={first}: ids {I[0].tolist()} D {D[0].tolist()}")
    print(f"          true d of those {np.round(true, 6).tolist()}  |get-X| max {np.abs(V[:, 0] - X[I[0], 0]).max():.1e}  brute-force top5 {bf.tolist()}  overlap {len(set(bf) & set(I[0].tolist()))}/5")
