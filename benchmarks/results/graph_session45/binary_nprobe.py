import numpy as np, tempfile, vidx
from vidx import datasets
d = datasets.load("glove6b-50-angular")
X = np.asarray(d.train, np.float32)[:100000]; Q = np.asarray(d.test, np.float32)[:500]
Xn = X / np.linalg.norm(X, axis=1, keepdims=True); Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
truth = np.argsort(-(Qn @ Xn.T), axis=1)[:, :10]
idx = vidx.Index(50, "cosine", kind="spann", path=tempfile.mkdtemp() + "/b.post", quant="binary")
idx.add(X, progress=False)
import sys
RERANKS = [int(v) for v in sys.argv[1].split(",")] if len(sys.argv) > 1 else [0, 100, 400, 1600]
for nprobe in (8, 16, 32, 64):
    for rerank in RERANKS:
        I = idx.search(Q, 10, nprobe=nprobe, rerank=rerank)[1] if rerank else idx.search(Q, 10, nprobe=nprobe)[1]
        r = np.mean([len(set(a) & set(t)) / 10 for a, t in zip(I.tolist(), truth.tolist())])
        print(f"nprobe {nprobe} rerank {rerank or 'default'}: {r:.4f}")
