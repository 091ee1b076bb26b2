import time, tempfile, numpy as np, vidx, statistics
from pathlib import Path
from vidx import datasets
ds = datasets.load("glove6b-50-angular", download=False)
w = Path(tempfile.mkdtemp())
idx = vidx.Index(ds.dim, ds.vidx_metric, kind="spann", path=w / "p.post")
idx.add(ds.train, progress=False)
idx.add(ds.test[:10], ids=np.arange(len(ds.train), len(ds.train) + 10))  # a living index: its id map is made
res = []
for rep in range(3):
    t0 = time.perf_counter(); mark = {}
    def cb(phase, d, t):
        if phase != "read" and "end" not in mark: mark["end"] = time.perf_counter() - t0
    idx.rebuild(progress=cb)
    res.append(mark["end"])
print(vidx.__file__, "read phase s:", [round(r, 2) for r in res], "median", round(statistics.median(res), 2))
