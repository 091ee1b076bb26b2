"""Where glove's recall gap to hnswlib at high ef comes from: the same 10,000 spread queries on hnswlib (a saved
M=16, efC=200 index), on vidx's default index (f32_split: walks on bfloat16 upper halves, re-ranked in float32) and on
a plain float32 vidx index (quant="f32", its own graph, built here with the same seed and order when missing)."""
import os, sys, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/r33"))
import vidx, hnswlib
from glove_spread import glove_spread, recall_at_10
X, Q, T = glove_spread()
def rec(I): return recall_at_10(I, T)
h = hnswlib.Index(space="cosine", dim=50); h.load_index(sys.argv[1]); h.set_num_threads(2)
paths = {"f32_split": sys.argv[2], "f32": sys.argv[3]}
if not os.path.exists(paths["f32"]):
    i = vidx.Index(dim=50, metric="cosine", quant="f32"); i.add(X); i.save(paths["f32"])
idx = {k: vidx.load(p) for k, p in paths.items()}
for ef in (32, 64, 96, 128, 192):
    h.set_ef(ef); I, _ = h.knn_query(Q, k=10)
    line = ["ef %d hnswlib %.4f" % (ef, rec(I))]
    for k, ix in idx.items():
        _, J = ix.search(Q, k=10, ef=ef); line.append("%s %.4f" % (k, rec(J)))
    print("  ".join(line), flush=True)
