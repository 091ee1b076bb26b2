"""Rows missing from their own top 10 at ef 64 after a late widening: 100,000 32-d Gaussian rows in adds of 4,000
(ef_construction 24, seed 3), M automatic (chosen late, widened) and M=24 given: python3 selfreach.py PKG"""
import sys; sys.path.insert(0, sys.argv[1])
import numpy as np, vidx
hard = np.random.default_rng(1).standard_normal((100_000, 32)).astype(np.float32)
BUILD = dict(ef_construction=24, threads=2, seed=3)
for M in (0, 24):
    idx = vidx.Index(32, M=M, **BUILD)
    for i in range(0, len(hard), 4000): idx.add(hard[i:i+4000])
    I = idx.search(hard, k=10, ef=64)[1]
    print(sys.argv[1], "M", M, "->", idx.params["M"], "missing from own top 10 at ef 64:", int((~(I == np.arange(len(hard))[:, None]).any(1)).sum()), flush=True)
