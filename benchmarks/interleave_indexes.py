"""Two saved vidx indexes of one dataset's rows, timed in turns in one process: their speed ratio
at equal ef, for indexes that differ in codec or build but not in what they hold.

    OPENBLAS_NUM_THREADS=1 python benchmarks/interleave_indexes.py fashion-mnist-784-euclidean \\
        a.vidx b.vidx --ef 12,24,48 --rounds 8

For each ef, each round runs a 1000-query single-thread pass (one query per call, queries spread
over the test set) of both indexes, in alternating order, and the median of the per-round time
ratios (a / b: above 1 means b is faster) is printed with its range, each index's recall@10
against the dataset's neighbours (which are its metric's: an index built under another metric, as
the twenty-third session's fashion-mnist under cosine, compares speed at equal ef only) and b's
QPS. saved_sweep.py instead reads indexes against hnswlib at recall targets; ab_saved.py compares
two builds of the code on one index.
"""
import argparse
import os
import statistics
import time

import numpy as np

from ab_saved import load_queries, recall_of


def timed(idx, queries, ef):
    found = np.empty((len(queries), 10), np.int64)
    start = time.perf_counter()
    for i, q in enumerate(queries):
        found[i] = idx.search(q[None], k=10, ef=ef)[1][0]
    return time.perf_counter() - start, found


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--ef", default="12,24,48")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--queries", type=int, default=1000)
    args = p.parse_args()
    import vidx
    _, queries, truth, _ = load_queries(args.dataset, args.queries)
    indexes = {"a": vidx.load(args.a), "b": vidx.load(args.b)}
    for ef in (int(e) for e in args.ef.split(",")):
        ratios, recalls, seconds_b = [], {}, []
        for r in range(args.rounds):
            seconds = {}
            for key in ("a", "b") if r % 2 == 0 else ("b", "a"):
                seconds[key], found = timed(indexes[key], queries, ef)
                recalls[key] = recall_of(found, truth)
            ratios.append(seconds["a"] / seconds["b"])
            seconds_b.append(seconds["b"])
        print(f"ef {ef}: b/a speed median {statistics.median(ratios):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f}); "
              f"recall a {recalls['a']:.4f} b {recalls['b']:.4f}; b {len(queries) / statistics.median(seconds_b):.0f} QPS",
              flush=True)


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
