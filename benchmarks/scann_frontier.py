"""ScaNN at its best settings on one dataset, against hnswlib and saved vidx indexes in the same process.

    python benchmarks/scann_frontier.py glove6b-50-angular --hnswlib glove-hnswlib.bin \
        --vidx a.vidx --leaves 632,1000 --search 8,16,24,32,48,64,96 --reorder 30,50,80,120,200

Why: head_to_head.py drives ScaNN with one knob (ef sets both the leaves searched and the candidates
re-ranked), which may sit off ScaNN's best curve. ann-benchmarks instead sweeps pairs of
(leaves searched, candidates re-ranked) and keeps the Pareto frontier; this does the same, for
every tree size given, so the peer is measured at its best and not at ours.

Every index is built (ScaNN: k-means tree, anisotropic 4-bit AH with 2 dimensions a block, float32
re-rank, as in ann-benchmarks' ScaNN entry) or loaded (hnswlib, vidx) once. Then, for each round,
every configuration runs one single-thread pass of one query per call over queries spread across
the test set, so load drift reaches all alike. Reported: each configuration's recall@10 and median
QPS, each ScaNN tree's frontier, and the QPS at recall 0.90 / 0.95 / 0.97 read linearly along each
frontier (hnswlib and vidx: along their ef curve), with its ratio to hnswlib's.
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see head_to_head.py

import numpy as np  # noqa: E402

from ab_saved import DATA, load_queries, recall_of, timed_pass  # noqa: E402
from head_to_head import qps_at_recall  # noqa: E402
from vidx.bench import peers  # noqa: E402

TARGETS = (0.90, 0.95, 0.97)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset")
    p.add_argument("--hnswlib", required=True, help="hnswlib index file of the same train rows")
    p.add_argument("--hnswlib-ef", default="48,64,96,128,192")
    p.add_argument("--vidx", default="", help="comma list of saved vidx indexes to time too")
    p.add_argument("--vidx-ef", default="48,64,96,128,192")
    p.add_argument("--leaves", default="", help="ScaNN tree sizes (default: sqrt(n))")
    p.add_argument("--search", default="4,8,16,24,32,48,64,96,128", help="leaves searched")
    p.add_argument("--reorder", default="20,30,50,80,120,200", help="candidates re-ranked in float32")
    p.add_argument("--threshold", type=float, default=0.2, help="anisotropic threshold (dot products)")
    p.add_argument("--dims-per-block", type=int, default=2, help="AH dimensions per 4-bit code")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--batch", action="store_true", help="also time all queries in one call on 2 threads")
    return p.parse_args(argv)


def build_scann(train, metric, leaves, threshold, dims_per_block):
    start = time.perf_counter()
    searcher = peers.ScaNN.searcher(train, metric, leaves, threshold, dims_per_block, threads=2)
    searcher.set_num_threads(1)
    return searcher, time.perf_counter() - start


def batch_vidx(index, Q, ef):
    index.threads = 2
    try:
        return index.search(Q, k=10, ef=ef)[1]
    finally:
        index.threads = 1


def batch_scann(searcher, Q, search, reorder):
    searcher.set_num_threads(2)
    try:
        return searcher.search_batched_parallel(Q, 10, reorder, search)[0]
    finally:
        searcher.set_num_threads(1)


def frontier(points):
    """The (recall, qps) points no other point beats on both, in recall order."""
    best = []
    for r, q in sorted(points, key=lambda p: (-p[0], -p[1])):
        if not best or q > best[-1][1]:
            best.append((r, q))
    return best[::-1]


def main(argv=None):
    args = parse_args(argv)
    import h5py
    import hnswlib
    metric, queries, truth, (n, dim) = load_queries(args.dataset, args.queries)
    with h5py.File(DATA % args.dataset) as f:
        train = np.ascontiguousarray(f["train"][:], dtype=np.float32)
    scann_queries = peers._unit_rows(queries) if metric == "cosine" else queries
    if metric == "cosine":
        train = peers._unit_rows(train)

    configs = {}  # (name, setting) -> (prepare() or None, search_one(q), search_batch(Q) on 2 threads)
    peer = hnswlib.Index("l2" if metric == "l2" else "cosine", dim)
    peer.load_index(args.hnswlib)
    peer.set_num_threads(1)
    for ef in map(int, args.hnswlib_ef.split(",")):
        configs[("hnswlib", ef)] = ((lambda ef: lambda: peer.set_ef(ef))(ef), lambda q: peer.knn_query(q, k=10)[0][0],
                                    lambda Q: peer.knn_query(Q, k=10, num_threads=2)[0])
    if args.vidx:
        import vidx
        for path in args.vidx.split(","):
            index = vidx.load(path)
            index.threads = 1
            for ef in map(int, args.vidx_ef.split(",")):
                configs[(os.path.basename(path), ef)] = (
                    None, (lambda index, ef: lambda q: index.search(q, k=10, ef=ef)[1][0])(index, ef),
                    (lambda index, ef: lambda Q: batch_vidx(index, Q, ef))(index, ef))
    tree_sizes = [int(x) for x in args.leaves.split(",")] if args.leaves else [int(round(np.sqrt(n)))]
    for leaves in tree_sizes:
        searcher, seconds = build_scann(train, metric, leaves, args.threshold, args.dims_per_block)
        print(f"scann leaves={leaves}: built in {seconds:.1f} s", flush=True)
        for search in map(int, args.search.split(",")):
            if search > leaves:
                continue
            for reorder in map(int, args.reorder.split(",")):
                configs[(f"scann{leaves}", (search, reorder))] = (
                    None, (lambda s, search, reorder: lambda q: peers._pad(s.search(q, 10, reorder, search)[0], 10))(
                        searcher, search, reorder),
                    (lambda s, search, reorder: lambda Q: batch_scann(s, Q, search, reorder))(
                        searcher, search, reorder))
    del train

    times = {c: [] for c in configs}
    recalls = {}
    batch_times = {c: [] for c in configs}
    for c, (prepare, search_one, _) in configs.items():  # warm every index once
        qs = scann_queries if c[0].startswith("scann") else queries
        if prepare:
            prepare()
        timed_pass(search_one, qs[:100])
    for round_ in range(args.rounds):
        for c, (prepare, search_one, search_batch) in configs.items():
            qs = scann_queries if c[0].startswith("scann") else queries
            if prepare:
                prepare()
            seconds, found = timed_pass(search_one, qs)
            times[c].append(seconds)
            recalls[c] = recall_of(found, truth)
            if args.batch:
                start = time.perf_counter()
                search_batch(qs)
                batch_times[c].append(time.perf_counter() - start)
        print(f"round {round_ + 1} of {args.rounds} done", flush=True)

    curves, batch_curves = {}, {}
    for c in configs:
        qps = len(queries) / statistics.median(times[c])
        curves.setdefault(c[0], []).append((c[1], recalls[c], qps))
        line = f"{c[0]:>28} {str(c[1]):>10} recall={recalls[c]:.4f} qps={qps:8.0f}"
        if args.batch:
            batch_qps = len(queries) / statistics.median(batch_times[c])
            batch_curves.setdefault(c[0], []).append((c[1], recalls[c], batch_qps))
            line += f" batch={batch_qps:8.0f}"
        print(line)
    report("single-thread, one query per call", curves)
    if args.batch:
        report("2-thread batch", batch_curves)


def report(title, curves):
    reading = {}
    for name, points in curves.items():
        if name.startswith("scann"):
            line = frontier([(r, q) for _, r, q in points])
            settings = {(r, q): s for s, r, q in points}
            print(f"{name} frontier: " + ", ".join(f"{settings[p]}: {p[0]:.4f}/{p[1]:.0f}" for p in line))
        else:
            line = [(r, q) for _, r, q in points]
        reading[name] = {t: qps_at_recall(line, t) for t in TARGETS}
    base = reading["hnswlib"]
    print(f"\n{title}: QPS at recall (ratio to hnswlib)")
    for name, at in reading.items():
        cells = []
        for t in TARGETS:
            if at[t] is None:
                cells.append(f"{t}: -")
            else:
                ratio = f" ({at[t] / base[t]:.2f}x)" if base[t] else ""
                cells.append(f"{t}: {at[t]:.0f}{ratio}")
        print(f"{name:>28}  " + "  ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
