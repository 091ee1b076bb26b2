"""What removed rows cost an unfiltered search: single-thread QPS of an HNSW index while one
removed row is not yet reused, over the QPS of the same index with none (issue 10).

    PYTHONPATH=<private copy of the package> python benchmarks/live_hidden_rows.py [--n 100000] [--rounds 7]

Data: the first --n rows of glove6b-50-angular, cosine, HNSW M=16 ef_construction=100 seed 1;
2,000 test queries one per call at ef 64. Each round times the queries with no removed row, then
removes the last row, times them again, and adds the row back (it takes its old slot, so the
next round starts clean). Reported: the per-round ratios and their median.
"""
import argparse
import statistics
import time

import numpy as np

import vidx
from vidx import datasets


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    ds = datasets.load("glove6b-50-angular")
    X = np.ascontiguousarray(ds.train[:args.n])
    Q = np.ascontiguousarray(ds.test[datasets.spread_rows(len(ds.test), args.queries)])
    idx = vidx.Index(X.shape[1], "cosine", kind="hnsw", M=16, ef_construction=100, threads=2, seed=1)
    idx.add(X)
    idx.threads = 1
    last = args.n - 1

    def qps():
        t = time.perf_counter()
        for q in Q:
            idx.search(q[None], k=10, ef=64)
        return len(Q) / (time.perf_counter() - t)

    ratios = []
    for _ in range(args.rounds):
        clean = qps()
        idx.remove([last])
        with_removed = qps()
        idx.add(X[last:last + 1], ids=[last])
        ratios.append(with_removed / clean)
    print(f"QPS with one removed row / with none: median {statistics.median(ratios):.3f} over {args.rounds} rounds "
          f"({', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
