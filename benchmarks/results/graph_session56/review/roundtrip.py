"""Small adds with copies, save/load (file and bytes, mmap), more small adds, upserts, removes:
no error, no list holding a node twice, every live row reachable, the loaded index answers as the saved one."""
import os, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
for quant in ("binary", "lvq4x8", "f32_split", "rabitq"):
    for metric in ("l2", "ip", "cosine"):
        x, document, q = documents_of_chunks(3, documents=300, dim=16)
        rng = np.random.default_rng(0); bp = rng.standard_normal((1, 16)).astype(np.float32)
        idx = vidx.Index(16, metric, quant=quant, M=2 if metric == "ip" else 6, ef_construction=40, seed=0, threads=2)
        parts = np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1)
        nid = 10 ** 6
        for rows in parts[:150]:
            idx.add(np.concatenate([x[rows], np.repeat(bp, 2, 0)]), ids=np.concatenate([rows, [nid, nid + 1]]), progress=False); nid += 2
        with tempfile.TemporaryDirectory() as d:
            idx.save(d + "/a.vidx")
            a = vidx.load(d + "/a.vidx"); b = vidx.from_bytes(idx.to_bytes())
            same = all(np.array_equal(idx.search(q, k=10, ef=20)[1], o.search(q, k=10, ef=20)[1]) for o in (a, b))
            for rows in parts[150:]:
                a.add(np.concatenate([x[rows], np.repeat(bp, 2, 0)]), ids=np.concatenate([rows, [nid, nid + 1]]), progress=False); nid += 2
            a.upsert(x[:40] + 0.01, ids=np.arange(40))
            a.remove(np.arange(40, 80))
            a.upsert(np.repeat(bp, 5, 0), ids=np.arange(100, 105))
        g, reach, dups, selfl = graph_stats(a)
        live = set(a.ids().tolist()); sid = slot_ids(a)
        live_slots = {s for s in range(len(sid)) if int(sid[s]) in live}
        print(PKG, quant, metric, "loaded answers alike", same, "dups", dups, "self", selfl, "unreached live", len(live_slots - reach), "rows", len(a), flush=True)
