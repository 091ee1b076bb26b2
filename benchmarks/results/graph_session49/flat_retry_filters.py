# Flat: a search beside a concurrent remove, with a filter that does not read labels, still comes
# back short of k after the retry (the retry's scan returns the removed slot again).
# The churned row sits in slot 0 (scanned first), so the race is hit often.
import sys, threading, time, numpy as np, vidx
mode = sys.argv[1]; secs = float(sys.argv[2]) if len(sys.argv) > 2 else 10
DIM = 16; N = 20000
rng = np.random.default_rng(0)
X = rng.standard_normal((N, DIM)).astype(np.float32)
idx = vidx.Index(DIM, kind="flat", threads=2)
idx.add(X)                      # ids 0..N-1 = slots (identity)
p = rng.standard_normal(DIM).astype(np.float32)
Q = (p + 1e-3 * rng.standard_normal((64, DIM))).astype(np.float32)
if mode == "identity_mask":     # ByLabel with slots_are_ids: reads no label while no row is removed
    near_id = 0
    filt = np.ones(N, bool)
elif mode == "sparse_list":     # AllowedSlots: liveness read once, when the filter is made
    near_id = 10**7
    filt = np.r_[near_id, np.arange(N - 1, 0, -1)]  # unordered, sparse
elif mode == "identity_list":   # AllowedIds, labels are slots: reads no label while no row is removed
    near_id = 0
    filt = np.arange(N)
else:
    near_id = 0; filt = None
idx.remove(0)                   # slot 0 free: the churned row takes it
stop = threading.Event(); cycles = [0]
def churn():
    while not stop.is_set():
        idx.add(p[None, :], ids=[near_id]); idx.remove(near_id); cycles[0] += 1
w = threading.Thread(target=churn); w.start()
calls = short_calls = short_queries = 0; t0 = time.time()
try:
    while time.time() - t0 < secs:
        D, I = idx.search(Q, k=10, filter=filt)
        calls += 1
        s = int((I < 0).any(1).sum())
        short_calls += s > 0; short_queries += s
        if s: print("  short call", calls, "queries", s, "row0 ids", I[0].tolist())
finally:
    stop.set(); w.join()
print(f"{mode}: calls {calls}, calls short of k {short_calls}, short queries {short_queries} (>= {N-1} rows allowed and live), churn cycles {cycles[0]}")
