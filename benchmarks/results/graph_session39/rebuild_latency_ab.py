import sys, time, statistics, tempfile, numpy as np, vidx
from pathlib import Path
from vidx import datasets
ds = datasets.load("glove6b-50-angular", download=False)
w = Path(tempfile.mkdtemp())
f = vidx.Index(ds.dim, ds.vidx_metric, kind="spann", path=w/"f.post"); f.add(ds.train, progress=False)
f.save(w/"f.vidx"); g = vidx.load(w/"f.vidx")
r = vidx.load(w/"f.vidx"); r.rebuild(w/"r.post", progress=False)
q = ds.test[datasets.spread_rows(len(ds.test), 1000)]
for i in (f,g,r): i.threads = 1
lat = {"built": [], "loaded": [], "loaded+rebuilt": []}
for rep in range(5):
    for name, i in zip(lat, (f, g, r)):
        t = time.perf_counter()
        for x in q: i.search(x, 10, nprobe=32)
        lat[name].append((time.perf_counter()-t))
print({k: round(statistics.median(v), 3) for k, v in lat.items()})
print({k: [round(x,3) for x in v] for k, v in lat.items()})
