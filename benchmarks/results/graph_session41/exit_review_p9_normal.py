import os, signal, threading, time, sys
import numpy as np, vidx
rows = np.random.default_rng(0).standard_normal((20000, 32)).astype(np.float32)
# 1. callback raises
idx = vidx.Index(32)
def bad(*r): raise ValueError("stop")
try: idx.add(rows[:5000], progress=bad)
except ValueError as e: print("callback error:", repr(e), "size", len(idx))
# 2. Ctrl-C during add (main thread), from a timer
idx = vidx.Index(32)
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
t = time.time()
try:
    for i in range(50): idx.add(rows + i, ids=np.arange(20000*i, 20000*(i+1)), progress=False)
    print("no interrupt")
except KeyboardInterrupt: print("KeyboardInterrupt after %.2fs" % (time.time() - t))
# 3. callback raising in a thread
idx = vidx.Index(32); out = []
def th():
    try: idx.add(rows[:5000], progress=bad)
    except ValueError as e: out.append(repr(e))
t = threading.Thread(target=th); t.start(); t.join(); print("thread:", out)
# 4. add from inside own callback
idx = vidx.Index(32)
try: idx.add(rows[:5000], progress=lambda *r: idx.search(rows[:1], k=1))
except Exception as e: print("own-index callback:", type(e).__name__)
