import time, statistics, numpy as np, vidx, sys
from vidx import datasets
ds = datasets.load("glove6b-50-angular", download=False)
idx = vidx.load(sys.argv[1]); idx.threads = 1
q = ds.test[datasets.spread_rows(len(ds.test), 1000)]
for ef in (64, 128):
    cold, warm = [], []
    for rep in range(3):
        c = w = 0.0
        for x in q:
            t = time.perf_counter(); idx.search(x, 10, ef=ef); t1 = time.perf_counter()
            idx.search(x, 10, ef=ef); t2 = time.perf_counter()
            c += t1 - t; w += t2 - t1
        cold.append(c / len(q) * 1e6); warm.append(w / len(q) * 1e6)
    print(f"ef {ef}: cold {statistics.median(cold):.1f} us, repeated {statistics.median(warm):.1f} us, ratio {statistics.median(cold)/statistics.median(warm):.2f}")
