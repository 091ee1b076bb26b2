"""memory_breakdown()['ids'] of a flat index of n rows with custom ids, and after removing half and compact():
python3 ids_memory.py PACKAGE_FOLDER"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, vidx
rng = np.random.default_rng(0)
for n in (200_000, 1_000_000):
    x = np.zeros((n, 4), dtype=np.float32)
    ids = rng.choice(2 ** 62, size=n, replace=False).astype(np.int64)
    index = vidx.Index(4, "l2", kind="flat", threads=1)
    t = time.perf_counter(); index.add(x, ids=ids); add = time.perf_counter() - t
    custom = index.memory_breakdown()["ids"]
    t = time.perf_counter(); found = sum(int(i) in index for i in ids[:100_000]); look = time.perf_counter() - t
    plain = vidx.Index(4, "l2", kind="flat", threads=1); plain.add(x); plain.remove(np.arange(0, n, 2)); plain.compact()
    print(f"n={n:>9,}: custom ids {custom / n:5.1f} B/id (add {add:.2f}s, 100,000 `in` {look:.2f}s, found {found}); "
          f"default ids after removing half + compact {plain.memory_breakdown()['ids'] / len(plain):5.1f} B/id")
