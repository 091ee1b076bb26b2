"""kill -9 at every Python-visible step (and at timed points inside the C++ index save) of two
consecutive document-store saves, each in its own forked process; then a fresh process must load
the folder (one of the saved states), write, save and load again."""
import os, signal, sys, shutil, threading, time, traceback
import numpy as np
import vidx
from vidx.integrations._doc_index import DocIndex
from vidx.integrations import _doc_index

KIND = sys.argv[1] if len(sys.argv) > 1 else "spann"
ROOT = os.path.join(os.environ.get("TMPDIR", "/tmp"), "vidx_km_" + KIND)
DIM = 8
def vecs(n, seed): return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
def opts(d): return {"path": os.path.join(d, "p.post")} if KIND == "spann" else {}

counter = [0]
target = [None]
def hit():
    counter[0] += 1
    if counter[0] == target[0]:
        os.kill(os.getpid(), signal.SIGKILL)

def install_hooks():
    for mod, name in [(os, "replace"), (os, "remove"), (os, "fsync")]:
        real = getattr(mod, name)
        def wrapped(*a, _real=real, **k):
            hit(); r = _real(*a, **k); hit(); return r
        setattr(mod, name, wrapped)
    real_save = vidx.Index.save
    def save(self, path):
        hit(); r = real_save(self, path); hit(); return r
    vidx.Index.save = save

def child(fn):
    pid = os.fork()
    if pid == 0:
        try:
            fn(); os._exit(0)
        except BaseException:
            traceback.print_exc(); os._exit(3)
    _, st = os.waitpid(pid, 0)
    return "killed" if os.WIFSIGNALED(st) else ("ok" if os.WEXITSTATUS(st) == 0 else "error")

def init(d):
    s = DocIndex("l2", KIND, framework="langchain", **opts(d))
    s.upsert([f"d{i}" for i in range(300)], vecs(300, 0), [{"text": "d", "metadata": {}}] * 300)
    s.save(os.path.join(d, "s"))

def step(d, tag, seed, kill_at=None, kill_after_s=None):
    def run():
        s = DocIndex.load(os.path.join(d, "s"), "langchain")
        s.upsert([f"{tag}{i}" for i in range(50)], vecs(50, seed), [{"text": tag, "metadata": {}}] * 50)
        s.delete([f"d{i}" for i in range(seed, seed + 5)])
        install_hooks()
        target[0] = kill_at
        if kill_after_s is not None:
            threading.Timer(kill_after_s, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
            t0 = time.perf_counter(); s.save(os.path.join(d, "s"))
            time.sleep(1)  # a timer past the save's end: kill anyway
        else:
            s.save(os.path.join(d, "s"))
    return child(run)

def verify(d):
    def run():
        folder = os.path.join(d, "s")
        s = DocIndex.load(folder, "langchain")
        n = len(s)
        assert n == len(s.index), (n, len(s.index))
        assert n in (300, 345, 390), n
        for key, payload in s.items():
            pass
        got = s.search(vecs(300, 0)[200], 1)
        assert got and got[0][0] == "d200", got
        s.upsert(["later"], vecs(1, 99), [{"text": "l", "metadata": {}}])
        s.save(folder)
        t = DocIndex.load(folder, "langchain")
        assert len(t) == n + 1 and len(t.index) == n + 1
        print("   state", n, sorted(os.listdir(folder)), file=sys.stderr) if os.environ.get("V") else None
    return child(run)

def fresh():
    d = ROOT + "/case"
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    assert child(lambda: init(d)) == "ok"
    return d

shutil.rmtree(ROOT, ignore_errors=True); os.makedirs(ROOT)
# how many hook events does a save have?
d = fresh()
def count():
    s = DocIndex.load(os.path.join(d, "s"), "langchain")
    s.upsert(["x"], vecs(1, 5), [{"text": "x", "metadata": {}}]); install_hooks(); s.save(os.path.join(d, "s"))
    print("events in one save:", counter[0]); sys.stdout.flush()
child(count)
N = int(os.environ.get("N", "22"))
points = [("at", k) for k in range(1, N + 1)] + [("t", t) for t in (0.001, 0.003, 0.006, 0.01, 0.02, 0.04)]
failures = 0
J = os.environ.get("J")
for pa in points:
    for pb in (points if J is None else [p for p in points if str(p[1]) in J.split(",")]):
        d = fresh()
        ra = step(d, "a", 10, **({"kill_at": pa[1]} if pa[0] == "at" else {"kill_after_s": pa[1]}))
        rb = step(d, "b", 20, **({"kill_at": pb[1]} if pb[0] == "at" else {"kill_after_s": pb[1]}))
        rv = verify(d)
        if rv != "ok" or ra == "error" or rb == "error":
            failures += 1
            print("FAIL", pa, ra, pb, rb, "verify:", rv, sorted(os.listdir(os.path.join(d, "s")))); sys.stdout.flush()
print("cases", len(points) * (len(points) if J is None else len(J.split(","))), "failures", failures)
