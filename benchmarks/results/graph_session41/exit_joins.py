# Exit paths that wait for threads inside vidx calls before finalisation: a multiprocessing
# ThreadPool terminated at exit, and an atexit handler (registered before vidx's import) that
# stops and joins a daemon worker.
import atexit, threading, time
from multiprocessing.pool import ThreadPool
import numpy as np
stop = threading.Event()
workers = []
def stop_workers():
    stop.set()
    for w in workers:
        w.join()
    print("joined", flush=True)
atexit.register(stop_workers)
import vidx
rows = np.random.default_rng(0).standard_normal((5000, 16)).astype(np.float32)
index = vidx.Index(16)
index.add(rows, progress=False)
def work():
    while not stop.is_set():
        index.search(rows[:500], k=10)
w = threading.Thread(target=work, daemon=True); w.start(); workers.append(w)
pool = ThreadPool(3)
result = pool.map_async(lambda i: index.search(rows[:300], k=10)[1].shape, range(2000))
time.sleep(0.3)
print("main ends", flush=True)
