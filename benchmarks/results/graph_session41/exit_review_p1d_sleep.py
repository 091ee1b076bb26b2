# progress callback that sleeps 20 ms (rate limiting / I/O); main ends at a random moment
import random, sys, threading, time
import numpy as np
import vidx
rows = np.random.default_rng(0).standard_normal((20000, 32)).astype(np.float32)
index = vidx.Index(32); index.add(rows[:2000], progress=False)
def add():
    for i in range(1000):
        index.add(rows[2000:20000], ids=np.arange(10**6+18000*i, 10**6+18000*(i+1)), progress=lambda *r: time.sleep(0.02))
threading.Thread(target=add, daemon=True).start()
time.sleep(random.uniform(0.1, 0.5))
