"""The review's repro (graph.md section 55): share of one boilerplate vector's 750 copies reachable from the entry
point and found by a search at k 750, and how many distinct codes they hold. mode "fresh": the codec learns again as
the index grows, so the copies' codes drift; "trained": a first add trains it. python t12_binary_copies_repro.py
PKGDIR fresh|trained [QUANT]"""
import struct
import sys

pkg, mode = sys.argv[1], sys.argv[2]
quant = sys.argv[3] if len(sys.argv) > 3 else "binary"
sys.path.insert(0, pkg)
import numpy as np  # noqa: E402
import vidx  # noqa: E402
from h import binary_copies_index, first_group, graph, reachable, section_bytes, slot_ids  # noqa: E402

for seed in (0, 1, 2):
    idx, boiler = binary_copies_index(vidx, seed, quant, trained=mode == "trained")
    data = idx.to_bytes()
    sid = slot_ids(idx)
    R = reachable(graph(idx))
    grp = first_group(sid)
    stride, hsize = struct.unpack_from("<QQ", section_bytes(data, b"HLAY"))
    heads = np.frombuffer(section_bytes(data, b"HED0"), np.uint8).reshape(len(sid), stride)[:, :hsize]
    t = section_bytes(data, b"TAIL")
    tails = np.frombuffer(t, np.uint8).reshape(len(sid), len(t) // len(sid))
    codes = len({heads[s].tobytes() + tails[s].tobytes() for s in grp})
    distinct_heads = len({heads[s].tobytes() for s in grp})
    _, I = idx.search(boiler[0][None], k=len(grp), ef=len(grp) + 50)
    found = len(set(I[0].tolist()) & set(sid[grp].tolist()))
    print(f"{pkg.rstrip('/').split('/')[-1]:5s} {mode:7s} {quant} seed={seed} group={len(grp)} distinct_codes={codes} "
          f"distinct_heads={distinct_heads} reachable={np.mean([s in R for s in grp]):.3f} found_by_search={found}/{len(grp)} "
          f"all_rows_reachable={len(R) / len(sid):.3f}", flush=True)
