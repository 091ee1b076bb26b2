# progress callback is plain Python that runs ~200 ms (no sleep, no I/O); main just ends
import os, sys, threading, time
import numpy as np
import vidx
rows = np.random.default_rng(0).standard_normal((20000, 32)).astype(np.float32)
index = vidx.Index(32)
index.add(rows[:2000], progress=False)
inside = threading.Event()
def cb(*r):
    inside.set()
    t = time.perf_counter()
    while time.perf_counter() - t < 0.2: pass
def add():
    for i in range(100):
        index.add(rows[2000:20000], ids=np.arange(10**6+18000*i, 10**6+18000*(i+1)), progress=cb)
threading.Thread(target=add, daemon=True).start()
inside.wait()
print("main ends", flush=True)
