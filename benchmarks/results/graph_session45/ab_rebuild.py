"""SPANN rebuild() of lossy postings, this session's code against the session's start: glove6b-50's
first ROWS rows in natural order, built on the first 10%, the rest added in batches of 20,000
(rebuild_growth as given), then rebuild(); recall@10 of the grown and the rebuilt index at
nprobe 16/32/64 against brute force (cosine) for 1,000 of the dataset's test queries.
    PYTHONPATH=<package> python ab_rebuild.py QUANT ROWS REBUILD_GROWTH"""
import sys, tempfile
import numpy as np
import vidx
from glove_prefix import glove_prefix, recall_at_10

quant, rows, growth = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
X, Q, truth = glove_prefix(rows, 1000)
tmp = tempfile.mkdtemp()
index = vidx.Index(50, "cosine", kind="spann", path=tmp + "/g.post", quant=quant, rebuild_growth=growth)
first = rows // 10
index.add(X[:first], progress=False)
for b in range(first, rows, 20000):
    index.add(X[b:b + 20000], ids=np.arange(b, min(b + 20000, rows)), progress=False)

def recalls(ix):
    return [recall_at_10(ix.search(Q, 10, nprobe=p)[1], truth) for p in (16, 32, 64)]

grown = recalls(index)
index.rebuild(progress=False)
rebuilt = recalls(index)
print(f"{quant} rows {rows} rebuild_growth {growth}: grown " + " ".join(f"{r:.4f}" for r in grown) +
      " | rebuilt " + " ".join(f"{r:.4f}" for r in rebuilt) + "  (nprobe 16 32 64)")
