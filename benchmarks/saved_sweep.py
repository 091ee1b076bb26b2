"""Several saved vidx indexes of one dataset against hnswlib, in one process, read at recall targets.

    python benchmarks/saved_sweep.py glove6b-50-angular a.vidx,b.vidx --hnswlib glove-hnswlib.bin \
        --ef 48,64,96,128,192 --hnswlib-ef 48,64,96,128,192 --rounds 3

For comparing graphs built differently (another build rule, another M) by the same search code:
ab_saved.py compares two builds of the code on one saved index; this compares saved indexes.
The process loads every index and hnswlib's; for each ef, every repetition runs a 1000-query
single-thread pass (one query per call, queries spread over the test set) of each index in turn
and then of hnswlib, so load drift reaches all of them alike. It prints each curve
(recall, median QPS) and, at recall 0.90 / 0.95 / 0.97, each index's QPS read linearly between
the two efs that straddle the target and its ratio to hnswlib's, read the same way.
HNSWLIB.bin: an hnswlib index of the same train rows (ab_saved.py --make-hnswlib builds one).
Used for the seventeenth session's level-0 experiments (benchmarks/results/graph.md section 18).
"""
import argparse
import os
import statistics
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see head_to_head.py

import numpy as np  # noqa: E402

from head_to_head import qps_at_recall  # noqa: E402
from ab_saved import load_queries, recall_of, timed_pass  # noqa: E402



def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset")
    p.add_argument("indexes", help="comma list of saved vidx index files")
    p.add_argument("--hnswlib", required=True, help="hnswlib index file of the same train rows")
    p.add_argument("--ef", default="48,64,96,128,192", help="vidx ef values")
    p.add_argument("--hnswlib-ef", default=None, help="hnswlib ef values (default: --ef)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--targets", default="0.90,0.95,0.97", help="recall@10 values to read QPS at")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import hnswlib
    import vidx
    metric, queries, truth, (_, dim) = load_queries(args.dataset, args.queries)
    paths = args.indexes.split(",")
    if len(set(paths)) != len(paths):
        raise SystemExit("saved_sweep.py: an index is listed twice")
    indexes = [vidx.load(p) for p in paths]
    for index in indexes:
        index.threads = 1
    peer = hnswlib.Index("l2" if metric == "l2" else "cosine", dim)
    peer.load_index(args.hnswlib)
    peer.set_num_threads(1)
    efs = [int(e) for e in args.ef.split(",")]
    peer_efs = [int(e) for e in (args.hnswlib_ef or args.ef).split(",")]

    curves = {p: [] for p in paths}
    peer_curve = []
    for step in range(max(len(efs), len(peer_efs))):
        seconds = {p: [] for p in paths}
        peer_seconds = []
        recalls = {}
        for _ in range(args.rounds):
            if step < len(efs):
                for path, index in zip(paths, indexes):
                    t, found = timed_pass(lambda q: index.search(q, k=10, ef=efs[step])[1][0], queries)
                    seconds[path].append(t)
                    recalls[path] = recall_of(found, truth)
            if step < len(peer_efs):
                peer.set_ef(peer_efs[step])
                t, found = timed_pass(lambda q: peer.knn_query(q, k=10)[0][0], queries)
                peer_seconds.append(t)
                recalls["hnswlib"] = recall_of(found, truth)
        if step < len(efs):
            for path in paths:
                curves[path].append((recalls[path], len(queries) / statistics.median(seconds[path])))
        if step < len(peer_efs):
            peer_curve.append((recalls["hnswlib"], len(queries) / statistics.median(peer_seconds)))

    def show(curve):
        return " ".join(f"({r:.4f}, {q:.0f})" for r, q in curve)

    print(f"{args.dataset}: {args.queries} spread queries, {args.rounds} rounds; (recall, median QPS) per ef")
    print(f"  hnswlib ef {peer_efs}: {show(peer_curve)}")
    for path in paths:
        print(f"  {os.path.basename(path)} ef {efs}: {show(curves[path])}")
    for target in [float(t) for t in args.targets.split(",")]:
        peer_qps = qps_at_recall(peer_curve, target)
        cells = []
        for path in paths:
            qps = qps_at_recall(curves[path], target)
            ratio = f" ({qps / peer_qps:.2f}x)" if qps and peer_qps else ""
            cells.append(f"{os.path.basename(path)} {qps:.0f}{ratio}" if qps else f"{os.path.basename(path)} -")
        print(f"at {target:.2f}: hnswlib " + (f"{peer_qps:.0f}" if peer_qps else "-") + ", " + ", ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
