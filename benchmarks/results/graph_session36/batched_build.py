"""Graphs built by adds of `batch` rows at a time (an embedding system's way), M=16 given,
automatic (M=0: the choice waits for 100,000 rows, then the lists widen) and M=24 given, saved
for saved_sweep.py (graph.md section 36).

    PYTHONPATH=<package> python batched_build.py glove6b-50-angular 20000 /tmp/cdeg/batched
"""
import json
import os
import sys
import time

import vidx
from vidx import datasets

name, batch, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
quant = sys.argv[4] if len(sys.argv) > 4 else None
data = datasets.load(name)
metric = "l2" if name.endswith("euclidean") else "cosine"
os.makedirs(out, exist_ok=True)
tag = f"-{quant}" if quant else ""
for M in (16, 0, 24):
    index = vidx.Index(data.train.shape[1], metric=metric, M=M, ef_construction=200, threads=2,
                       **({"quant": quant} if quant else {}))
    start = time.perf_counter()
    chosen_at = None
    for first in range(0, len(data.train), batch):
        index.add(data.train[first:first + batch])
        if chosen_at is None and index.params["M"] != 0:
            chosen_at = first + min(batch, len(data.train) - first)
    seconds = time.perf_counter() - start
    path = os.path.join(out, f"{name}{tag}-b{batch}-M{M}.vidx")
    index.save(path)
    print(name, json.dumps({"M given": M, "M": index.params["M"], "chosen after rows": chosen_at, "batch": batch,
                            "build_s": round(seconds, 2), "MiB": round(index.memory_usage() / 2**20, 2)}), flush=True)
