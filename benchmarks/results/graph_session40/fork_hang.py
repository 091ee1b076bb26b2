# A thread searches (200-query calls) while the main thread forks five times; each child makes one call
# (10 s to finish, else "HUNG" and killed). python fork_hang.py PACKAGE_DIR
import os, sys, threading, time, numpy as np
sys.path.insert(0, sys.argv[1]); import vidx
X = np.random.default_rng(0).standard_normal((5000, 16)).astype(np.float32)
idx = vidx.Index(16, kind="hnsw", threads=1, M=8); idx.add(X)
stop = threading.Event()
def spin():
    q = X[:200]
    while not stop.is_set(): idx.search(q, 10)
t = threading.Thread(target=spin); t.start(); time.sleep(0.2)
results = {}
for what in ["search", "add", "remove", "grow", "compact"]:
    pid = os.fork()
    if pid == 0:
        signal_ok = True
        try:
            if what == "search": idx.search(X[:5], 3)
            elif what == "add": idx.add(X[:10])
            elif what == "remove": idx.remove([1, 2, 3])
            elif what == "grow": idx.add(np.random.default_rng(1).standard_normal((20000, 16)).astype(np.float32))
            elif what == "compact": idx.remove([4]); idx.compact()
            os._exit(0)
        except Exception as e:
            print("child", what, "raised", type(e).__name__, e, flush=True); os._exit(3)
    deadline = time.time() + 10
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done: results[what] = os.waitstatus_to_exitcode(status); break
        time.sleep(0.05)
    else:
        os.kill(pid, 9); os.waitpid(pid, 0); results[what] = "HUNG"
stop.set(); t.join(); print(results)
