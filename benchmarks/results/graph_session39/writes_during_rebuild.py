"""How long adds wait while a SPANN index rebuilds: glove6b-50's 390,000 rows in one build,
then a rebuild on another thread while this one adds batches of 200 new rows (test vectors
under new ids) back to back, one search of 10 queries between adds. Prints the rebuild's
time, the adds made during it, and their latency (median, max)."""
import statistics, sys, tempfile, threading, time
from pathlib import Path
import numpy as np
import vidx
from vidx import datasets

ds = datasets.load("glove6b-50-angular", download=False)
work = Path(tempfile.mkdtemp(prefix="rebuild_writes_"))
index = vidx.Index(ds.dim, ds.vidx_metric, kind="spann", path=work / "p.post")
index.add(ds.train, progress=False)
extra = ds.test
next_id = len(ds.train)
done = threading.Event()
took = {}

def rebuild():
    t = time.perf_counter()
    index.rebuild(progress=False)
    took["rebuild_s"] = time.perf_counter() - t
    done.set()

latencies, searches, starts = [], [], []
t0 = time.perf_counter()
t = threading.Thread(target=rebuild)
t.start()
b = 0
while not done.is_set():
    rows = extra[(b * 200) % len(extra):(b * 200) % len(extra) + 200]
    s = time.perf_counter()
    index.add(rows, ids=np.arange(next_id, next_id + len(rows)))
    latencies.append(time.perf_counter() - s)
    starts.append(s - t0)
    next_id += len(rows)
    b += 1
    s = time.perf_counter()
    index.search(extra[:10], 10, nprobe=16)
    searches.append(time.perf_counter() - s)
t.join()
print(f"{vidx.__file__}: rebuild {took['rebuild_s']:.2f} s; {len(latencies)} adds of 200 rows during it, "
      f"latency median {statistics.median(latencies) * 1e3:.1f} ms, max {max(latencies) * 1e3:.0f} ms; "
      f"searches median {statistics.median(searches) * 1e3:.1f} ms, max {max(searches) * 1e3:.0f} ms; "
      f"index holds {len(index)} (expected {next_id})")
slowest = sorted(range(len(latencies)), key=lambda i: -latencies[i])[:3]
print("slowest adds (started at s after the rebuild began: took ms):",
      ", ".join(f"{starts[i]:.2f}: {latencies[i] * 1e3:.0f}" for i in slowest))
