"""Recall@10 of a ShardedIndex (3 shards, local Ray) on 4,000 32-d Gaussian rows under "ip", at length
factors 1 and 2^-20, for the package on PYTHONPATH (the session's start and end).

    PYTHONPATH=<package> python sharded_short_rows.py"""
import os

import numpy as np
import ray

import vidx
from vidx.distributed import ShardedIndex

ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
rng = np.random.default_rng(0)
x = rng.standard_normal((4000, 32)).astype(np.float32)
q = (x[:100] + 0.05 * rng.standard_normal((100, 32))).astype(np.float32)
truth = np.argsort(-(q.astype(np.float64) @ x.T.astype(np.float64)), axis=1)[:, :10]
print(f"vidx from {os.path.dirname(vidx.__file__)}")
for kind in ("flat", "hnsw"):
    for s in (1.0, 2.0 ** -20):
        index = ShardedIndex(32, "ip", kind=kind, shards=3)
        index.add(x * np.float32(s))
        D, I = index.search(q * np.float32(s), 10)
        r = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I.tolist(), truth.tolist())])
        print(f"{kind} x{s:g}: recall@10 {r:.3f}", flush=True)
        index.close()
ray.shutdown()
