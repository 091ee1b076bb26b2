# atexit handler (registered before `import vidx`) stops and joins a worker that is inside a search
import atexit, sys, threading, time
import numpy as np
stop = threading.Event()
def shutdown():
    stop.set(); worker.join(); print("joined", flush=True)
atexit.register(shutdown)
import vidx
rows = np.random.default_rng(0).standard_normal((20000, 32)).astype(np.float32)
index = vidx.Index(32, kind=sys.argv[1])
index.add(rows, progress=False)
def loop():
    while not stop.is_set():
        index.search(rows[:2000], k=10)
worker = threading.Thread(target=loop, daemon=True); worker.start()
time.sleep(0.3)
print("main ends", flush=True)
