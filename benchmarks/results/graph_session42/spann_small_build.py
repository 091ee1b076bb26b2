# Finding: a SPANN index whose first add (its build) is small, then fed one large add, stays
# (nearly) one posting list: every query reads all entries at any nprobe. glove-50 first 50k rows.
# PYTHONPATH=<package copy> python3 spann_small_build.py
import sys, os, time, tempfile; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load, recall, orders
import numpy as np, vidx
X, Q, gt, lab = load('glove', 50000)
perm = orders(X, lab)['shuf']
W = tempfile.mkdtemp()
for first in [50000, 10, 1000, 5000]:
    idx = vidx.Index(50, 'cosine', kind='spann', path=f'{W}/p{first}', threads=2)
    t = time.time()
    idx.add(X[perm[:first]], ids=perm[:first])
    if first < 50000: idx.add(X[perm[first:]], ids=perm[first:])
    bt = time.time() - t
    st = idx.stats()
    line = f'build {first:5d} rows, then one add of {50000-first:5d}: {bt:5.1f}s live_splits={st["live_splits"]:.0f} posting_limit={st["posting_limit"]:.0f} |'
    for p in [4, 16, 64]:
        idx.reset_stats(); t = time.time()
        for q in Q[:200]: idx.search(q, 10, nprobe=p)
        ms = (time.time() - t) / 200 * 1e3
        idx.reset_stats(); _, I = idx.search(Q, 10, nprobe=p)
        line += f' np{p}: recall {recall(I, gt):.4f} entries/q {idx.stats()["entries_scanned"]/len(Q):.0f} {ms:.2f} ms/q |'
    print(line, flush=True)
    del idx
