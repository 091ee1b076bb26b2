import struct, sys
import numpy as np
sys.path.insert(0, "/work/main/tests")
from test_corruption import section_bytes

def graph(idx):
    """lists[level][slot] -> array, from to_bytes."""
    data = idx.to_bytes()
    g = section_bytes(data, b"HNSW")
    count, M, M0 = struct.unpack_from("<QQQ", g)
    entry, lp1 = struct.unpack_from("<II", g, 24)
    l0 = np.frombuffer(section_bytes(data, b"LNK0"), dtype=np.uint32).reshape(count, -1)
    levels = np.frombuffer(section_bytes(data, b"LVLS"), dtype=np.uint8)
    up = np.frombuffer(section_bytes(data, b"LNKU"), dtype=np.uint32)
    lists = [[l0[s, 1:1 + l0[s, 0]] for s in range(count)]]
    off = 0
    upper = {}
    for s in range(count):
        for lv in range(1, levels[s] + 1):
            w = up[off:off + M + 1]; off += M + 1
            upper[(lv, s)] = w[1:1 + w[0]]
    return dict(count=count, M=M, M0=M0, entry=entry, levels=levels, l0=lists[0], upper=upper)

def dup_problems(idx, live=None):
    G = graph(idx)
    bad = []
    for s, lk in enumerate(G["l0"]):
        if live is not None and s not in live: continue
        t = lk.tolist()
        if s in t or len(set(t)) != len(t): bad.append((0, s, t))
    for (lv, s), lk in G["upper"].items():
        if live is not None and s not in live: continue
        t = lk.tolist()
        if s in t or len(set(t)) != len(t): bad.append((lv, s, t))
    return bad

def brute(x, q, k, metric):
    x64 = x.astype(np.float64); q64 = np.atleast_2d(q).astype(np.float64)
    if metric == "l2":
        d = (q64 ** 2).sum(1)[:, None] - 2 * q64 @ x64.T + (x64 ** 2).sum(1)[None, :]
    elif metric == "ip":
        d = 1 - q64 @ x64.T
    else:
        xn = x64 / np.maximum(np.linalg.norm(x64, axis=1, keepdims=True), 1e-30)
        qn = q64 / np.maximum(np.linalg.norm(q64, axis=1, keepdims=True), 1e-30)
        d = 1 - qn @ xn.T
    return np.argsort(d, axis=1, kind="stable")[:, :k]

def recall(found, truth):
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth)]))

def chunks(seed, documents=1000, dim=32, spread=0.8):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((documents, dim)).astype(np.float32)
    document = np.repeat(np.arange(documents), rng.integers(3, 20, documents))
    x = (centres[document] + spread * rng.standard_normal((len(document), dim))).astype(np.float32)
    asked = rng.integers(0, documents, 500)
    q = (centres[asked] + spread * rng.standard_normal((500, dim))).astype(np.float32)
    return x, document, q

def split_docs(document):
    return np.split(np.arange(len(document)), np.flatnonzero(np.diff(document)) + 1)

def slot_ids(idx):
    return np.frombuffer(section_bytes(idx.to_bytes(), b"IDS_"), dtype=np.int64)

def reachable(G):
    """Slots reachable from the entry point by the edges of every level (directed)."""
    adj = {}
    for s, l in enumerate(G["l0"]): adj.setdefault(s, []).extend(l.tolist())
    for (lv, s), l in G["upper"].items(): adj.setdefault(s, []).extend(l.tolist())
    seen = {G["entry"]}; st = [G["entry"]]
    while st:
        u = st.pop()
        for v in adj.get(u, ()):
            if v not in seen: seen.add(v); st.append(v)
    return seen
