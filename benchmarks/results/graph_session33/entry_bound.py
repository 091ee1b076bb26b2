"""Upper bound of a better entry point (section 33). Runs against a scratch build whose
HnswIndex::search_one counts the level-0 walk's expansions and scored candidates (thread-local
counters in graph::beam_search) and, with VIDX_X=1, walks level 0 a second time from the best
node the first walk found (as good an entry as any scheme could give), printing both averages
every 2,000 queries. The scratch patch is not in the tree.

    VIDX_X=1 python entry_bound.py DATASET INDEX.vidx EF
"""
import sys, numpy as np, h5py
sys.path.insert(0, "/tmp/scr33/python")  # the scratch build
import vidx
ds, path, ef = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = h5py.File(f"/root/.cache/vidx/{ds}.hdf5")
rows = (np.arange(2000) * len(f["test"])) // 2000
Q = f["test"][rows]
idx = vidx.load(path); idx.threads = 1
for q in Q: idx.search(q, k=10, ef=ef)
