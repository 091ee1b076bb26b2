"""How long searches wait while an add brings an automatic-M index to 100,000 rows and its lists
are widened (graph.md section 36): a thread searches one query at a time during the add, and the
longest single search is compared with the same add into an index with M=24 given.

    PYTHONPATH=<package> python widen_stall.py 768
"""
import sys
import threading
import time

import numpy as np

import vidx

dim = int(sys.argv[1]) if len(sys.argv) > 1 else 768
rng = np.random.default_rng(0)
first = rng.standard_normal((60_000, dim)).astype(np.float32)
second = rng.standard_normal((60_000, dim)).astype(np.float32)
queries = rng.standard_normal((100, dim)).astype(np.float32)

for M in (24, 0):
    index = vidx.Index(dim, M=M, ef_construction=64, threads=1)
    index.add(first)
    latencies, done = [], threading.Event()

    def search():
        i = 0
        while not done.is_set():
            start = time.perf_counter()
            index.search(queries[i % len(queries)], k=10, ef=32)
            latencies.append(time.perf_counter() - start)
            i += 1

    searcher = threading.Thread(target=search)
    searcher.start()
    start = time.perf_counter()
    index.add(second)
    add_seconds = time.perf_counter() - start
    done.set()
    searcher.join()
    lat = np.array(latencies) * 1e3
    print(f"dim {dim}, M given {M}: M after the add {index.params['M']}, add {add_seconds:.1f} s, "
          f"{len(lat)} searches during it, median {np.median(lat):.2f} ms, longest {lat.max():.1f} ms", flush=True)
