"""Concurrent add() calls of small batches (documents, boilerplate copies) from 4 Python threads,
with a thread removing and re-adding ids meanwhile. Checks: no crash, no list holding a node twice
or itself, no link to an empty/removed slot, reachability of live rows, rows finding themselves."""
import os, sys, threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
quant, metric, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
for r in range(rounds):
    x, document, q = documents_of_chunks(r, documents=400, dim=24)
    rng = np.random.default_rng(r)
    bp = rng.standard_normal((1, 24)).astype(np.float32)
    idx = vidx.Index(24, metric, quant=quant, M=6, ef_construction=48, seed=r, threads=2)
    parts = np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1)
    copy_id = [10 ** 6]
    lock = threading.Lock()
    errors = []
    def adder(k):
        try:
            for j, rows in enumerate(parts[k::4]):
                with lock:
                    c = np.arange(copy_id[0], copy_id[0] + 3); copy_id[0] += 3
                idx.add(np.concatenate([x[rows], np.repeat(bp, 3, 0)]), ids=np.concatenate([rows, c]), progress=False)
        except Exception as e:
            errors.append(repr(e))
    removed = set()
    def remover():
        rr = np.random.default_rng(r + 7)
        try:
            for _ in range(300):
                n = len(idx)
                if n < 50: continue
                ids = rr.integers(0, len(x), 3)
                try:
                    idx.remove(ids)
                    removed.update(ids.tolist())
                except Exception as e:
                    if "not" not in str(e).lower() and "unknown" not in str(e).lower(): errors.append(repr(e))
        except Exception as e:
            errors.append(repr(e))
    ts = [threading.Thread(target=adder, args=(k,)) for k in range(4)] + [threading.Thread(target=remover)]
    [t.start() for t in ts]; [t.join() for t in ts]
    g, reach, dups, selfl = graph_stats(idx)
    sid = slot_ids(idx)
    live = np.flatnonzero(sid >= 0) if (sid < 0).any() else np.arange(len(sid))
    # links to slots that hold no live id
    ids_set = set(idx.ids().tolist()) if hasattr(idx, "ids") else None
    live_slots = {s for s in range(len(sid)) if ids_set is None or int(sid[s]) in ids_set}
    bad_links = sum(int(v not in live_slots) for l in g["l0"] for v in l.tolist())
    unreached = len(live_slots - reach)
    alive = np.array(sorted(set(range(len(x))) - removed))
    _, own = idx.search(x[alive], k=1, ef=64)
    selffind = float(np.mean((own[:, 0] == alive)))
    print(PKG, quant, metric, "round", r, "rows", len(idx), "errors", errors[:2], "dups", dups, "self", selfl, "links to dead", bad_links,
          "unreached live", unreached, "self-find", round(selffind, 4), flush=True)
