# Minimal repro: binary quant, one document an add, each add also holds 3 copies of one of two boilerplate
# vectors. Reports reachability of the boilerplate copies from the entry point (all levels, directed),
# how many of them a search with k = group size finds, and how many distinct codes the copies hold.
# mode "fresh": the index starts empty (codec relearns as it grows: copies' codes drift);
# mode "trained": a first add of 6000 other rows trains the codec (no relearning after).
import sys, struct
pkg, mode = sys.argv[1], sys.argv[2]; sys.path.insert(0, pkg); sys.path.insert(0, "/tmp/r55")
import numpy as np, vidx
from h import graph, chunks, split_docs, slot_ids, reachable
from test_corruption import section_bytes
x, document, q = chunks(9, documents=500)
docs = split_docs(document)
c = 3
for seed in (0, 1, 2):
    rng = np.random.default_rng(seed)
    boiler = rng.standard_normal((2, 32)).astype(np.float32)
    idx = vidx.Index(32, "l2", M=8, ef_construction=64, seed=seed, threads=2, quant="binary")
    if mode == "trained":
        pre = np.random.default_rng(99).standard_normal((6000, 32)).astype(np.float32) * 1.3
        idx.add(pre, ids=np.arange(500000, 506000), progress=False)
    nid = 100000
    for i, r in enumerate(docs):
        v = np.concatenate([x[r], np.repeat(boiler[i % 2][None], c, 0)])
        ids = np.concatenate([r, np.arange(nid, nid + c)]); nid += c
        perm = rng.permutation(len(v))
        idx.add(v[perm], ids=ids[perm], progress=False)
    data = idx.to_bytes(); sid = slot_ids(idx); G = graph(idx); R = reachable(G)
    grp = [s for s in range(len(sid)) if 100000 <= sid[s] < 500000 and ((sid[s] - 100000) // c) % 2 == 0]
    stride, hsize = struct.unpack_from("<QQ", section_bytes(data, b"HLAY"))
    heads = np.frombuffer(section_bytes(data, b"HED0"), np.uint8).reshape(len(sid), stride)[:, :hsize]
    t = section_bytes(data, b"TAIL"); ts = len(t) // len(sid)
    tails = np.frombuffer(t, np.uint8).reshape(len(sid), ts)
    codes = len({heads[s].tobytes() + tails[s].tobytes() for s in grp})
    _, I = idx.search(boiler[0][None], k=len(grp), ef=len(grp) + 50)
    found = len(set(I[0].tolist()) & set(sid[grp].tolist()))
    print(f"{pkg.split('/')[-1]:5s} {mode:7s} seed={seed} group={len(grp)} distinct_codes={codes} reachable={np.mean([s in R for s in grp]):.3f} found_by_search={found}/{len(grp)} all_rows_reachable={len(R)/len(sid):.3f}", flush=True)
