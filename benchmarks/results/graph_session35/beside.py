"""Searches beside a first add with the automatic M: they run while it adds (not after)."""
import sys, threading, time, numpy as np
sys.path.insert(0, "/work/main/python")
import vidx
x = np.random.default_rng(1).standard_normal((200000, 32)).astype(np.float32)
idx = vidx.Index(32, threads=1)
done = []
t = threading.Thread(target=lambda: (idx.add(x), done.append(time.perf_counter())))
start = time.perf_counter(); t.start(); time.sleep(1.0)
answers = []
while not done:
    D, I = idx.search(x[:1], k=10)
    answers.append((time.perf_counter(), int((I >= 0).sum())))
    time.sleep(0.2)
t.join()
during = [a for a in answers if a[0] < done[0]]
print("M", idx.params["M"], "add took %.1f s" % (done[0] - start), "searches answered during the add:", len(during), "last results", during[-1][1] if during else None)
