# A daemon thread inside a vidx call when the interpreter exits.
import sys, threading, time
import numpy as np
import vidx
mode = sys.argv[1]
rng = np.random.default_rng(0)
X = rng.standard_normal((20000, 32)).astype(np.float32)
idx = vidx.Index(dim=32, metric="l2", kind=sys.argv[2] if len(sys.argv) > 2 else "hnsw")
idx.add(X[:5000])
def searcher():
    while True:
        idx.search(X[:2000], k=10)
def adder():
    i = 0
    while True:
        idx.add(X[5000:], ids=np.arange(100000 + i * 15000, 100000 + (i + 1) * 15000), progress=lambda *a: None)
        i += 1
def single():
    while True:
        idx.search(X[0], k=10)
t = threading.Thread(target={"search": searcher, "add": adder, "single": single}[mode], daemon=True)
t.start()
time.sleep(0.5)
print("exiting", flush=True)
