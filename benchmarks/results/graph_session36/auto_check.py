"""The M the automatic default (M=0) chooses with LVQ and 1-bit codes after this session's change,
and whether an automatic LVQ build is the graph built with that M given (graph.md section 36).

    PYTHONPATH=<package> python auto_check.py /tmp/cdeg    # the saved M=24 / M=16 graphs of degree_study.py
"""
import hashlib
import os
import sys
import time

import numpy as np

import vidx
from vidx import datasets

SAVED = sys.argv[1] if len(sys.argv) > 1 else "/tmp/cdeg"
CASES = [  # (set, quant): the saved graph with the same M should search alike
    ("glove6b-50-angular", "lvq8"),
    ("glove6b-50-angular", "lvq4x4"),
    ("gauss-200k-32-euclidean", "lvq8"),
    ("powerlaw-200k-128-euclidean", "lvq4x4"),
    ("wordnet-minilm-384-angular", "lvq4x4"),
    ("fashion-mnist-784-euclidean", "lvq8"),
    ("glove100k-50-angular", "binary"),
    ("glove100k-50-angular", "rabitq"),
]


def result_hash(index, queries):
    _, ids = index.search(queries, k=10, ef=32)
    return hashlib.sha256(np.ascontiguousarray(ids).tobytes()).hexdigest()[:16]


for name, quant in CASES:
    data = datasets.load(name)
    train, test = data.train, data.test[:1000]
    metric = "l2" if name.endswith("euclidean") else "cosine"
    index = vidx.Index(train.shape[1], metric=metric, quant=quant, ef_construction=200, threads=2)
    start = time.perf_counter()
    index.add(train)
    seconds = time.perf_counter() - start
    chosen = index.params["M"]
    saved_path = os.path.join(SAVED, f"{name}-{quant}-M{chosen}.vidx")
    same = "-"
    if os.path.exists(saved_path):
        same = "same results" if result_hash(vidx.load(saved_path), test) == result_hash(index, test) else "DIFFERENT"
    print(f"{name} {quant}: automatic M chose {chosen} ({seconds:.1f} s, {index.memory_usage() / 2**20:.1f} MiB);"
          f" against {os.path.basename(saved_path)}: {same}", flush=True)
