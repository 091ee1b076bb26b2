# a progress callback that calls vidx on ANOTHER index; an atexit handler (registered before
# `import vidx`) stops the worker and then saves / searches the index being added to.
# mode=save: hnsw (default quant); mode=search: hnsw quant=lvq8 fresh (training add: exclusive lock)
import atexit, sys, threading, time
import numpy as np
shared = {}
mode = sys.argv[1]
stop = threading.Event()
def at_exit():
    stop.set()
    a = shared["a"]
    if mode == "save": a.save("/tmp/review41/exit/p6.vidx"); print("atexit saved", flush=True)
    else: print("atexit search", a.search(np.zeros((1, 32), np.float32), k=1)[1].shape, flush=True)
atexit.register(at_exit)
import vidx
rows = np.random.default_rng(0).standard_normal((20000, 32)).astype(np.float32)
opts = {"quant": "lvq8"} if mode == "search" else {}
a = vidx.Index(32, **opts); shared["a"] = a
if mode == "save": a.add(rows[:2000], progress=False)
b = vidx.Index(32, kind="flat"); b.add(rows[:5000], progress=False)
inside = threading.Event()
def cb(*r):
    inside.set()
    t = time.perf_counter()
    while time.perf_counter() - t < 0.02:
        b.search(rows[:20], k=5)
def add():
    i = 0
    while not stop.is_set():
        a.add(rows[2000:6000], ids=np.arange(10**6+4000*i, 10**6+4000*(i+1)), progress=cb); i += 1
threading.Thread(target=add, daemon=True).start()
inside.wait()
print("main ends", flush=True)
