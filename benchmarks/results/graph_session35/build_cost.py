"""Glove builds, alternating: the automatic M (which estimates, then picks 24) against M=24 and M=16 given."""
import sys, time, numpy as np, h5py, os
sys.path.insert(0, "/tmp/ab/auto")
import vidx
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5")) as f:
    X = f["train"][:]
times = {}
for r in range(2):
    for M in (0, 24, 16):
        idx = vidx.Index(50, metric="cosine", M=M, threads=2)
        t = time.perf_counter(); idx.add(X); dt = time.perf_counter() - t
        times.setdefault(M, []).append(dt)
        print(f"round {r} M={M} -> {idx.params['M']}: {dt:.2f} s", flush=True)
        del idx
print({m: [round(t, 2) for t in v] for m, v in times.items()})
