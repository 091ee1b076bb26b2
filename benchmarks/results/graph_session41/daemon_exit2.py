# Several daemon threads in vidx calls (search, batch, add with progress, range, remove) at exit,
# an atexit handler registered before vidx's that uses an index on the exiting thread.
import atexit, sys, threading, time
import numpy as np
saved = {}
def late_save():  # registered before vidx is imported: runs after vidx's hook
    idx2 = saved["idx"]
    D, I = idx2.search(np.zeros((3, 32), np.float32), k=5)
    print("atexit search ok", I.shape, flush=True)
atexit.register(late_save)
import vidx
kind = sys.argv[1]; delay = float(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.standard_normal((30000, 32)).astype(np.float32)
kw = {"kind": kind}
if kind == "spann":
    import tempfile; kw["path"] = tempfile.mkdtemp() + "/p.post"
idx = vidx.Index(dim=32, metric="l2", **kw)
idx.add(X[:10000])
saved["idx"] = idx
def searcher(n):
    while True:
        idx.search(X[:n], k=10)
def adder():
    i = 0
    while True:
        idx.add(X[10000:10000 + 5000], ids=np.arange(10**6 + i * 5000, 10**6 + (i + 1) * 5000),
                progress=lambda *a: time.sleep(0.001))
        i += 1
def remover():
    i = 0
    while True:
        idx.remove(np.arange(i * 10, i * 10 + 10)); i += 1
for f, a in [(searcher, (1,)), (searcher, (3000,)), (adder, ()), (remover, ())]:
    threading.Thread(target=f, args=a, daemon=True).start()
time.sleep(delay)
print("exiting", flush=True)
