"""SPANN single-query search on a saved index, posting reads through the readers (io_threads 16):
python spann_only.py FOLDER  (prints QPS at nprobe 32, one query a call, median of 5 rounds of
1,000 queries). Made by `python spann_only.py --save FOLDER` (glove6b-50's first 100,000 rows)."""
import os
import statistics
import sys
import time

import numpy as np

import vidx
from vidx.datasets import load

ds = load("glove6b-50-angular")
q = np.ascontiguousarray(ds.test[:1000], dtype=np.float32)
if sys.argv[1] == "--save":
    folder = sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    idx = vidx.Index(50, metric="cosine", kind="spann", path=os.path.join(folder, "postings"), threads=2, seed=1)
    idx.add(np.ascontiguousarray(ds.train[:100_000], dtype=np.float32))
    idx.save(os.path.join(folder, "index"))
    sys.exit()
idx = vidx.load(os.path.join(sys.argv[1], "index"))
for row in q[:100]:
    idx.search(row[None], 10, nprobe=32)
rounds = []
for _ in range(5):
    t = time.perf_counter()
    for row in q:
        idx.search(row[None], 10, nprobe=32)
    rounds.append(len(q) / (time.perf_counter() - t))
print(f"{statistics.median(rounds):.0f}")
