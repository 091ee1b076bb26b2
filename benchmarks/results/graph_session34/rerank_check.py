import os, sys, time, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/r33"))
import vidx
from glove_spread import glove_spread, recall_at_10
path = sys.argv[1]
X, Q, T = glove_spread()
if not os.path.exists(path):
    idx = vidx.Index(dim=50, metric="cosine"); idx.add(X); idx.save(path)
idx = vidx.load(path); idx.threads = 2
def rec(I): return recall_at_10(I, T)
for ef in (64, 96, 128):
    for rr in (None, ef):
        _, I = idx.search(Q, k=10, ef=ef, rerank=rr)
        print("ef", ef, "rerank", rr, "recall %.4f" % rec(I))
