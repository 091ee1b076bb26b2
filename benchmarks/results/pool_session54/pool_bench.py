"""One process's figures for the shared helper crew (session 54): run it alternately with the
package before and after (PYTHONPATH), medians over the alternations are in README.md.

  python pool_bench.py OUT.json [--rows 100000]

Cases (glove6b-50 from the vidx cache, its first --rows rows, HNSW float32 defaults, threads=2):
  build         one add of all rows
  batch1000     search of 1,000 queries in one call, k=10, ef 64 (median of 7 calls)
  batch16       searches of 16 queries a call, 200 calls (median time a call, over 5 rounds)
  two_callers   two Python threads, each 5 calls of 1,000 queries on the same index (wall time)
  many_indexes  threads after 200 indexes of threads=4 were made, then 20 of them added to and searched
"""
import json
import os
import statistics
import sys
import threading
import time

import numpy as np

import vidx
from vidx.datasets import load


def threads_now():
    return len(os.listdir("/proc/self/task"))


def main():
    out_path = sys.argv[1]
    rows = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else 100_000
    ds = load("glove6b-50-angular")
    x = np.ascontiguousarray(ds.train[:rows], dtype=np.float32)
    q = np.ascontiguousarray(ds.test[:1000], dtype=np.float32)
    result = {"rows": rows}

    t = time.perf_counter()
    idx = vidx.Index(x.shape[1], metric="cosine", kind="hnsw", threads=2, seed=1)
    idx.add(x)
    result["build_s"] = time.perf_counter() - t

    times = []
    for _ in range(7):
        t = time.perf_counter()
        idx.search(q, 10, ef=64)
        times.append(time.perf_counter() - t)
    result["batch1000_qps"] = len(q) / statistics.median(times)

    per_call = []
    for _ in range(5):
        t = time.perf_counter()
        for c in range(200):
            s = (c * 16) % (len(q) - 16)
            idx.search(q[s:s + 16], 10, ef=64)
        per_call.append((time.perf_counter() - t) / 200)
    result["batch16_us"] = statistics.median(per_call) * 1e6

    def caller():
        for _ in range(5):
            idx.search(q, 10, ef=64)
    t = time.perf_counter()
    callers = [threading.Thread(target=caller) for _ in range(2)]
    for c in callers:
        c.start()
    for c in callers:
        c.join()
    result["two_callers_qps"] = 2 * 5 * len(q) / (time.perf_counter() - t)

    before = threads_now()
    many = [vidx.Index(16, kind="hnsw", threads=4, seed=1) for _ in range(200)]
    result["threads_200_empty"] = threads_now() - before
    small = np.random.default_rng(0).standard_normal((2000, 16)).astype(np.float32)
    for m in many[:20]:
        m.add(small)
        m.search(small[:300], 5)
    result["threads_20_used"] = threads_now() - before

    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
