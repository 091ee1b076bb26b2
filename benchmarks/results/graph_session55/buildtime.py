"""Seconds to build one feed with the package on PYTHONPATH (threads=2). python buildtime.py FEED
FEED: docs_per_document, docs_one_shuffled (man pages), glove_one (glove6b-50, file order, M=16), small_adds
(49,026 man-page rows in one add, then 200 adds of 16 rows: median ms an add)."""
import sys, time, h5py, numpy as np, vidx
feed = sys.argv[1]
if feed.startswith("glove"):
    from vidx import datasets
    x = datasets.load("glove6b-50-angular").train
    t0 = time.perf_counter()
    vidx.Index(50, "cosine", M=16, ef_construction=200, seed=0, threads=2).add(x, progress=False)
    print(feed, round(time.perf_counter() - t0, 3)); sys.exit()
with h5py.File("/tmp/s55/manpages-minilm-384-angular.hdf5", "r") as f:
    x = f["train"][:]; doc = f["documents"][:]
idx = vidx.Index(384, "cosine", M=16, ef_construction=200, seed=0, threads=2)
if feed == "small_adds":
    extra = (x[:3200] + 0.05 * np.random.default_rng(0).standard_normal((3200, 384))).astype(np.float32)
    idx.add(x, progress=False)
    ts = []
    for i in range(200):
        t0 = time.perf_counter(); idx.add(extra[16 * i:16 * i + 16], progress=False); ts.append(time.perf_counter() - t0)
    print(feed, round(1000 * float(np.median(ts)), 3)); sys.exit()
t0 = time.perf_counter()
if feed == "docs_per_document":
    for g in np.split(np.arange(len(x)), np.flatnonzero(np.diff(doc)) + 1): idx.add(x[g], progress=False)
else:
    p = np.random.default_rng(0).permutation(len(x)); idx.add(x[p], progress=False)
print(feed, round(time.perf_counter() - t0, 3))
