import os, sys, struct, time
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "tests"))
import vidx
from test_corruption import section_bytes
from conftest import hnsw_graph, reachable_slots
from test_row_order import documents_of_chunks

PKG = os.path.basename(os.path.dirname(os.path.dirname(vidx.__file__)))

def heads(idx):
    data = idx.to_bytes()
    stride, size = struct.unpack_from("<QQ", section_bytes(data, b"HLAY"))
    h = np.frombuffer(section_bytes(data, b"HED0"), dtype=np.uint8).reshape(-1, stride)[:, :size]
    return h

def slot_ids(idx):
    return np.frombuffer(section_bytes(idx.to_bytes(), b"IDS_"), dtype=np.int64)

def graph_stats(idx):
    g = hnsw_graph(idx)
    reach = reachable_slots(g)
    dups = 0; selfl = 0
    for s, l in enumerate(g["l0"]):
        dups += len(l) - len(set(l.tolist())); selfl += int(s in l)
    for (lv, s), l in g["upper"].items():
        dups += len(l) - len(set(l.tolist())); selfl += int(s in l)
    return g, reach, dups, selfl

def truth(X, Q, k=10, metric="l2"):
    if metric in ("ip",):
        d = -(Q @ X.T)
    elif metric == "cosine":
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True); Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        d = -(Qn @ Xn.T)
    else:
        d = (Q * Q).sum(1)[:, None] - 2 * Q @ X.T + (X * X).sum(1)[None]
    return np.argsort(d, 1, kind="stable")[:, :k]

def recall(I, T):
    return float(np.mean([len(set(a.tolist()) & set(b.tolist())) for a, b in zip(I, T)])) / T.shape[1]
