"""A SPANN backup made of the index and posting files only, before and after the write generation
moved into the posting file (session 48). Run with the package to test on PYTHONPATH:

    PYTHONPATH=<package> python spann_stamp_copies.py OUT_DIR

Builds 20,000 clustered 64-d rows, adds 2,000 and saves (v1), adds 2,000 more and saves (v2),
then copies v1, v2 and the posting file (not "<posting>.gen") to a backup folder. There, the
older save v1 is loaded and given 6,000 rows in adds of 500; then the newest save v2 is loaded
and every one of its 24,000 rows is searched for (nprobe 64). Prints what v1's adds did and
what v2 still finds. Then the cost of a save after writes: 15 rounds of (add 100 rows, save),
the median save time."""
import gc
import os
import shutil
import statistics
import sys
import time

import numpy as np

import vidx

out = sys.argv[1]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(os.path.join(out, "backup"))
rng = np.random.default_rng(5)
centres = rng.standard_normal((200, 64)).astype(np.float32) * 4
x = (centres[rng.integers(0, 200, 36_000)] + rng.standard_normal((36_000, 64))).astype(np.float32)

idx = vidx.Index(64, metric="l2", kind="spann", path=os.path.join(out, "p.post"))
idx.add(x[:20_000], progress=False)
idx.add(x[20_000:22_000], ids=np.arange(20_000, 22_000))
idx.save(os.path.join(out, "v1.vidx"))
idx.add(x[22_000:24_000], ids=np.arange(22_000, 24_000))
idx.save(os.path.join(out, "v2.vidx"))
del idx
gc.collect()
print("files beside the index:", sorted(os.listdir(out)))
for name in ("v1.vidx", "v2.vidx", "p.post"):
    shutil.copyfile(os.path.join(out, name), os.path.join(out, "backup", name))
posting = os.path.join(out, "backup", "p.post")

v1 = vidx.load(os.path.join(out, "backup", "v1.vidx"), posting_path=posting)
try:
    for at in range(24_000, 30_000, 500):
        v1.add(x[at:at + 500], ids=np.arange(at, at + 500))
    print("older save v1 in the backup: 6,000 rows added (nothing refused)")
except OSError as e:
    print("older save v1 in the backup: add refused:", str(e)[:120], "...")
del v1
gc.collect()

v2 = vidx.load(os.path.join(out, "backup", "v2.vidx"), posting_path=posting)
try:
    _, ids = v2.search(x[:24_000], 1, nprobe=64)
    print(f"newest save v2 in the backup: {int((ids[:, 0] == np.arange(24_000)).sum())} of 24,000 rows find themselves")
except OSError as e:
    print("newest save v2 in the backup: search fails:", str(e)[:160], "...")
del v2
gc.collect()

idx = vidx.Index(64, metric="l2", kind="spann", path=os.path.join(out, "t.post"))
idx.add(x[:20_000], progress=False)
times = []
for r in range(15):
    at = 30_000 + 100 * r
    idx.add(x[at:at + 100], ids=np.arange(at, at + 100))
    t = time.perf_counter()
    idx.save(os.path.join(out, "t.vidx"))
    times.append(time.perf_counter() - t)
print(f"save after an add of 100 rows: median {1e3 * statistics.median(times):.1f} ms over 15 "
      f"(min {1e3 * min(times):.1f}, max {1e3 * max(times):.1f})")
