# many daemon threads in all kinds of calls at exit (spann with path=)
import os, pickle, sys, tempfile, threading, time
import numpy as np
import vidx
d = tempfile.mkdtemp(dir="/tmp/review41/exit")
rows = np.random.default_rng(0).standard_normal((8000, 16)).astype(np.float32)
h = vidx.Index(16); h.add(rows[:4000], progress=False)
f = vidx.Index(16, kind="flat"); f.add(rows[:4000], progress=False)
s = vidx.Index(16, kind="spann", path=d + "/s.post"); s.add(rows, progress=False)
bar = threading.Barrier(13)
def run(fn):
    def go():
        bar.wait(); i = 0
        while True: fn(i); i += 1
    threading.Thread(target=go, daemon=True).start()
cb = lambda *r: None
run(lambda i: h.search(rows[:500], k=10))
run(lambda i: f.range_search(rows[:200], 5.0))
run(lambda i: s.search(rows[:200], k=10))
run(lambda i: h.upsert(rows[:300], ids=np.arange(300)))
run(lambda i: f.remove(np.arange(3*i, 3*i+3), ignore_missing=True) if hasattr(f, "remove") else None)
run(lambda i: h.compact())
run(lambda i: pickle.loads(pickle.dumps(f)))
run(lambda i: h.save(d + "/h.vidx"))
run(lambda i: vidx.load(d + "/h.vidx") if os.path.exists(d + "/h.vidx") else None)
run(lambda i: s.rebuild(progress=cb))
run(lambda i: f.add(rows[4000:8000], ids=np.arange(10**6+4000*i, 10**6+4000*(i+1)), progress=cb))
run(lambda i: h.add(rows[4000:8000], ids=np.arange(10**6+4000*i, 10**6+4000*(i+1)), progress=cb))
bar.wait()
time.sleep(float(sys.argv[1]))
print("main ends", flush=True)
