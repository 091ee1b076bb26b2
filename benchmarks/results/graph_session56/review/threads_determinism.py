"""The same seed must give the same graph whatever the thread count. Feeds of small adds (documents,
documents with boilerplate copies), threads 1/2/3/5: to_bytes compared."""
import os, sys, hashlib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
def build(quant, metric, threads, feed, seed=1):
    x, document, q = documents_of_chunks(seed, documents=300, dim=16)
    rng = np.random.default_rng(seed)
    bp = rng.standard_normal((2, 16)).astype(np.float32)
    idx = vidx.Index(16, metric, quant=quant, M=6, ef_construction=40, seed=seed, threads=threads)
    nid = len(x)
    for i, rows in enumerate(np.split(np.arange(len(x)), np.flatnonzero(np.diff(document)) + 1)):
        if feed == "copies":
            v = np.concatenate([x[rows], np.repeat(bp[i % 2][None], 5, 0)])
            ids = np.concatenate([rows, np.arange(nid, nid + 5)]); nid += 5
            m = rng.permutation(len(v)); idx.add(v[m], ids=ids[m], progress=False)
        else:
            idx.add(x[rows], ids=rows, progress=False)
        if feed == "copies" and i % 50 == 49:  # removes and upserts between adds
            idx.remove(ids[:2]); idx.add(v[:2] + 0.01, ids=ids[:2], progress=False)
    data = idx.to_bytes()
    return hashlib.sha1(b"".join(section_bytes(data, t) for t in (b"HNSW", b"LVLS", b"LNK0", b"LNKU", b"HED0", b"IDS_"))).hexdigest()[:12]
bad = 0
for quant in ("f32", "binary", "lvq4x8", "rabitq", "f32_split"):
    for metric in ("l2", "cosine"):
        for feed in ("docs", "copies"):
            hs = [build(quant, metric, t, feed) for t in (1, 2, 3, 5)]
            ok = len(set(hs)) == 1
            bad += not ok
            print(PKG, quant, metric, feed, "same" if ok else "DIFFER", hs, flush=True)
print(PKG, "differing", bad)
