import os, sys, time, statistics, numpy as np, vidx, json
from vidx import datasets
name, path = sys.argv[1], sys.argv[2]
ds = datasets.load(name, download=False)
idx = vidx.load(path); idx.threads = int(os.environ.get("T", "2"))
Q = ds.test
out = {}
for ef in [int(e) for e in sys.argv[3].split(",")]:
    ts = []
    for rep in range(3):
        t = time.perf_counter(); D, I = idx.search(Q, 10, ef=ef); ts.append(time.perf_counter() - t)
    truth = ds.neighbors[:, :10]
    rec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, truth)])
    out[ef] = (round(len(Q) / statistics.median(ts)), round(rec, 4), int(np.abs(I).sum() % 1000003))
print(os.environ.get("VIDX_SEARCH_GROUP", "1"), json.dumps(out))
