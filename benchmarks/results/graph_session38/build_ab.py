"""Build time of one package against another, alternating processes (graph.md section 38):
did progress reports between HNSW insertion batches slow the build?

    python build_ab.py DATASET QUANT ROUNDS PKG_A PKG_B
Each round builds the whole train set once with each package (2 threads, automatic M), in
alternating order, and prints seconds and recall@10 at ef 64 on 1,000 spread queries."""
import json
import subprocess
import sys

CHILD = r"""
import sys, time, json, numpy as np, vidx
from vidx import datasets
d = datasets.load(sys.argv[1]); quant = sys.argv[2]
metric = "l2" if sys.argv[1].endswith("euclidean") else "cosine"
idx = vidx.Index(d.train.shape[1], metric=metric, quant=quant, threads=2)
t = time.perf_counter(); idx.add(d.train); s = time.perf_counter() - t
q = np.linspace(0, len(d.test) - 1, 1000).astype(int)
_, I = idx.search(d.test[q], k=10, ef=64)
r = np.mean([len(set(a) & set(b[:10])) / 10 for a, b in zip(I, d.neighbors[q])])
print(json.dumps({"build_s": round(s, 2), "recall_ef64": round(float(r), 4), "M": idx.params["M"]}))
"""

name, quant, rounds, pkg_a, pkg_b = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
for r in range(rounds):
    order = (pkg_a, pkg_b) if r % 2 == 0 else (pkg_b, pkg_a)
    for pkg in order:
        out = subprocess.run([sys.executable, "-c", CHILD, name, quant], capture_output=True, text=True, check=True,
                             env={"PYTHONPATH": pkg, "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                                  "HOME": "/root"})
        print(name, quant, f"round {r}", pkg, out.stdout.strip(), flush=True)
