"""Seconds to grow a SPANN index from 10% of glove6b-50 (shuffled, seed 0) to all of it, 20,000 rows
an add, with two packages in alternating processes (graph.md section 38).

    python growth_add_time.py ROUNDS PKG_A PKG_B"""
import subprocess
import sys

CHILD = r"""
import sys, time, json, tempfile, os, numpy as np, vidx
from vidx import datasets
d = datasets.load("glove6b-50-angular", download=False)
x = d.train; order = np.random.default_rng(0).permutation(len(x)); first, later = order[:39000], order[39000:]
work = tempfile.mkdtemp()
idx = vidx.Index(d.dim, d.vidx_metric, kind="spann", path=os.path.join(work, "p.post"))
idx.add(x[first], ids=first, progress=False)
t = time.perf_counter()
for b in range(0, len(later), 20000):
    idx.add(x[later[b:b + 20000]], ids=later[b:b + 20000])
print(json.dumps({"adds_s": round(time.perf_counter() - t, 2), "heads": idx.heads, "splits": idx.stats()["live_splits"]}))
"""
rounds, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for r in range(rounds):
    for pkg in ((a, b) if r % 2 == 0 else (b, a)):
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                             env={"PYTHONPATH": pkg, "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": "/root"})
        print(f"round {r}", pkg, out.stdout.strip(), flush=True)
