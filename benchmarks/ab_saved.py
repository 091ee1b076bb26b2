"""A/B of vidx builds on one saved index, each timed against hnswlib in the same process.

    mkdir -p /tmp/ab/main /tmp/ab/new
    cp -r <old checkout>/python/vidx /tmp/ab/main/   # with its built _core*.so inside
    cp -r <new checkout>/python/vidx /tmp/ab/new/
    python benchmarks/ab_saved.py glove6b-50-angular INDEX.vidx HNSWLIB.bin --ef 96 --variants main,new

INDEX.vidx is any saved vidx index of the dataset's train rows (both variants must load it);
HNSWLIB.bin an hnswlib index of the same rows (`--make-hnswlib` builds it: M=16, efC=200, 2 threads).
Each process loads the index and hnswlib's, then alternates 1000-query single-thread passes of both
(one query per call, `--rounds` times) and prints the median of hnswlib's time over vidx's: a ratio
that the host's load moves far less than either library's QPS. Processes alternate the variants
`--procs` times; the summary gives each variant's ratios and their median. Used for the fifteenth
session's figures (benchmarks/results/graph.md section 16).

A variant may carry environment settings for its processes, `FOLDER@NAME=VALUE@...`: the same
build with a scratch switch on and off (`--variants new,new@VIDX_X=1`). `--batch`: each round
times one call of all `--queries` queries on `--threads` threads for both libraries instead, and
the ratio is vidx's batch QPS over hnswlib's (graph.md section 32).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

DATA = os.path.expanduser("~/.cache/vidx/%s.hdf5")


def load_queries(dataset, nq):
    import h5py
    with h5py.File(DATA % dataset) as f:
        metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
        rows = (np.arange(nq) * len(f["test"])) // nq  # spread over the stored order
        return metric, f["test"][rows], f["neighbors"][rows, :10], f["train"].shape


def timed_pass(search_one, queries):
    """Seconds for one single-query loop over `queries` (search_one(q) -> 10 ids), and the ids."""
    found = np.empty((len(queries), 10), np.int64)
    start = time.perf_counter()
    for i, q in enumerate(queries):
        found[i] = search_one(q)
    return time.perf_counter() - start, found


def recall_of(found, truth):
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth)]))


def child(args):
    sys.path.insert(0, os.path.join(args.root, args.child.split("@")[0]))
    import hnswlib
    import vidx
    metric, test, truth, (_, dim) = load_queries(args.dataset, args.queries)
    idx = vidx.load(args.index)
    idx.threads = 1
    peer = hnswlib.Index("l2" if metric == "l2" else "cosine", dim)
    peer.load_index(args.hnswlib)
    peer.set_num_threads(1)
    peer.set_ef(args.hnswlib_ef or args.ef)

    if args.batch:
        return batch_child(args, idx, peer, test, truth)
    vidx_one = lambda q: idx.search(q, k=10, ef=args.ef)[1][0]
    peer_one = lambda q: peer.knn_query(q, k=10)[0][0]
    timed_pass(vidx_one, test), timed_pass(peer_one, test)  # warm both
    ratios, vidx_times = [], []
    for _ in range(args.rounds):
        tv, found_v = timed_pass(vidx_one, test)
        th, found_h = timed_pass(peer_one, test)
        ratios.append(th / tv)
        vidx_times.append(tv)
    print(json.dumps({"ratio": float(np.median(ratios)), "vidx_qps": len(test) / float(np.median(vidx_times)),
                      "recall": recall_of(found_v, truth), "hnswlib_recall": recall_of(found_h, truth)}))


def batch_child(args, idx, peer, test, truth):
    """--batch: rounds of one call of every query on args.threads threads for each library;
    prints vidx's QPS over hnswlib's (the median ratio) and vidx's median QPS."""
    idx.threads = args.threads
    peer.set_num_threads(args.threads)
    idx.search(test, k=10, ef=args.ef), peer.knn_query(test, k=10)  # warm both
    ratios, vidx_times = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        found_v = idx.search(test, k=10, ef=args.ef)[1]
        tv = time.perf_counter() - start
        start = time.perf_counter()
        found_h = peer.knn_query(test, k=10)[0]
        ratios.append((time.perf_counter() - start) / tv)
        vidx_times.append(tv)
    print(json.dumps({"ratio": float(np.median(ratios)), "vidx_qps": len(test) / float(np.median(vidx_times)),
                      "recall": recall_of(found_v, truth), "hnswlib_recall": recall_of(found_h, truth)}))


def make_hnswlib(dataset, path):
    import h5py
    import hnswlib
    with h5py.File(DATA % dataset) as f:
        metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
        train = f["train"][:]
    peer = hnswlib.Index("l2" if metric == "l2" else "cosine", train.shape[1])
    peer.init_index(len(train), 16, 200)
    peer.set_num_threads(2)
    peer.add_items(train)
    peer.save_index(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset")
    p.add_argument("index")
    p.add_argument("hnswlib")
    p.add_argument("--ef", type=int, required=True)
    p.add_argument("--hnswlib-ef", type=int, default=0, help="hnswlib's ef (default: --ef)")
    p.add_argument("--variants", default="main,new", help="package folders under --root")
    p.add_argument("--root", default="/tmp/ab")
    p.add_argument("--procs", type=int, default=3)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--make-hnswlib", action="store_true")
    p.add_argument("--batch", action="store_true", help="time batch calls instead of one query per call")
    p.add_argument("--threads", type=int, default=2, help="threads of --batch calls")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    if args.make_hnswlib and not os.path.exists(args.hnswlib):
        make_hnswlib(args.dataset, args.hnswlib)
    variants = args.variants.split(",")
    ratios = {v: [] for v in variants}
    for _ in range(args.procs):
        for v in variants:
            cmd = [sys.executable, __file__] + sys.argv[1:] + ["--child", v]
            settings = dict(kv.split("=", 1) for kv in v.split("@")[1:])  # FOLDER@NAME=VALUE@...
            out = subprocess.run(cmd, capture_output=True, text=True,
                                 env={**os.environ, "OPENBLAS_NUM_THREADS": "1", **settings})
            if out.returncode:
                sys.exit(out.stderr)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            ratios[v].append(r["ratio"])
            print(v, json.dumps(r), flush=True)
    for v in variants:
        print(f"{v}: ratio to hnswlib {' '.join(f'{x:.2f}' for x in ratios[v])}, median {np.median(ratios[v]):.2f}")


if __name__ == "__main__":
    main()
