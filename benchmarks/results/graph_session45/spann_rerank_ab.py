"""SPANN two-level postings, automatic rerank: recall@10 (cosine brute force), posting bytes read a
query (tails included) and single-query latency, at nprobe 8-64, on glove6b-50's first ROWS rows
(natural order, one add), 500 of its test queries.
    PYTHONPATH=<package> python spann_rerank_ab.py QUANT ROWS"""
import sys, tempfile, time
import vidx
from glove_prefix import glove_prefix, recall_at_10

quant, rows = sys.argv[1], int(sys.argv[2])
X, Q, truth = glove_prefix(rows, 500)
idx = vidx.Index(50, "cosine", kind="spann", path=tempfile.mkdtemp() + "/p.post", quant=quant, threads=1)
idx.add(X, progress=False)
for nprobe in (8, 16, 32, 64):
    idx.reset_stats()
    I = idx.search(Q, 10, nprobe=nprobe)[1]
    st = idx.stats()
    r = recall_at_10(I, truth)
    times = []
    for rep in range(3):
        t = time.perf_counter()
        for q in Q:
            idx.search(q, 10, nprobe=nprobe)
        times.append((time.perf_counter() - t) / len(Q) * 1e3)
    print(f"{quant} nprobe {nprobe:3d}: recall {r:.4f}, bytes/query {st['bytes_read'] / len(Q):9.0f} "
          f"(tails {st.get('tail_bytes_read', 0) / len(Q):8.0f}), latency {sorted(times)[1]:.3f} ms")
