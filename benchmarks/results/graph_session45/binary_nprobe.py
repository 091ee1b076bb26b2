"""SPANN binary on glove's first 100,000 rows: recall@10 at nprobe 8-64 for the rerank counts given
(0: automatic).   PYTHONPATH=<package> python binary_nprobe.py 0,100,400,1600"""
import sys
import tempfile
import vidx
from glove_prefix import glove_prefix, recall_at_10
X, Q, truth = glove_prefix(100000, 500)
idx = vidx.Index(50, "cosine", kind="spann", path=tempfile.mkdtemp() + "/b.post", quant="binary")
idx.add(X, progress=False)
RERANKS = [int(v) for v in sys.argv[1].split(",")] if len(sys.argv) > 1 else [0, 100, 400, 1600]
for nprobe in (8, 16, 32, 64):
    for rerank in RERANKS:
        I = idx.search(Q, 10, nprobe=nprobe, rerank=rerank)[1] if rerank else idx.search(Q, 10, nprobe=nprobe)[1]
        r = recall_at_10(I, truth)
        print(f"nprobe {nprobe} rerank {rerank or 'default'}: {r:.4f}")
