# daemon holds a Python lock around a vidx call; an atexit handler (registered earlier) takes that lock
import atexit, sys, threading, time
import numpy as np
lock = threading.Lock()
def flush():
    with lock: print("flushed", flush=True)
atexit.register(flush)
import vidx
rows = np.random.default_rng(0).standard_normal((20000, 32)).astype(np.float32)
index = vidx.Index(32, kind=sys.argv[1]); index.add(rows, progress=False)
def loop():
    while True:
        with lock: index.search(rows[:2000], k=10)
threading.Thread(target=loop, daemon=True).start()
time.sleep(0.3)
print("main ends", flush=True)
