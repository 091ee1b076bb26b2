"""HNSW's default codec against plain float32 on data shapes beyond the three benchmark sets.

Why: HNSW's default quant is "f32_split" (float32's bytes and results, walks reading the upper 16
bits of each value). graph.md measured it on wordnet-minilm, fashion-mnist and glove; this checks
the shapes a user may bring, small indexes that sit in cache included, where it gains least.

Data: a gaussian mixture (sqrt(n) clusters, unit spread around centres of spread 3), rows in
cluster order (natural for data arriving by category), queries drawn from the same mixture; exact
neighbours by numpy. For each shape both codecs are built once (2 threads, M=16, efC=200, seed 0),
then searched one query per call on one thread, alternating the codecs, `--rounds` times per ef;
the table gives recall@10 and the median QPS of each, and their ratio at equal ef.

  OPENBLAS_NUM_THREADS=1 python benchmarks/default_quant.py --shapes 10000x32,100000x128 --metric l2
"""
import argparse
import time

import numpy as np


def mixture(n, dim, queries, seed):
    rng = np.random.default_rng(seed)
    clusters = max(2, int(np.sqrt(n)))
    centres = rng.standard_normal((clusters, dim)).astype(np.float32) * 3
    labels = np.sort(rng.integers(0, clusters, n))  # rows arrive cluster by cluster
    x = centres[labels] + rng.standard_normal((n, dim)).astype(np.float32)
    q = centres[rng.integers(0, clusters, queries)] + rng.standard_normal((queries, dim)).astype(np.float32)
    return x, q


def exact_top(x, q, k, metric):
    if metric == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
    if metric == "l2":
        d = (q * q).sum(1)[:, None] - 2 * q @ x.T + (x * x).sum(1)[None, :]
    else:
        d = -(q @ x.T)
    return np.argsort(d, axis=1)[:, :k]


def qps_and_recall(index, q, truth, ef, k):
    found = np.empty((len(q), k), dtype=np.int64)
    start = time.perf_counter()
    for i in range(len(q)):
        found[i] = index.search(q[i], k=k, ef=ef)[1][0]
    seconds = time.perf_counter() - start
    recall = np.mean([len(set(f) & set(t)) / k for f, t in zip(found.tolist(), truth.tolist())])
    return len(q) / seconds, recall


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", default="3000x32,20000x128,100000x128,200000x96,50000x768",
                   help="comma-separated NxDIM")
    p.add_argument("--metric", default="l2", choices=("l2", "ip", "cosine"))
    p.add_argument("--ef", default="16,32,64,128")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--codecs", default="f32,f32_split")
    args = p.parse_args()
    import vidx

    codecs = args.codecs.split(",")
    efs = [int(e) for e in args.ef.split(",")]
    print(f"metric {args.metric}; QPS single thread, one query per call, median of {args.rounds}; "
          f"ratio = {codecs[1]} / {codecs[0]} at equal ef")
    for shape in args.shapes.split(","):
        n, dim = (int(v) for v in shape.split("x"))
        x, q = mixture(n, dim, args.queries, seed=n + dim)
        truth = exact_top(x, q, 10, args.metric)
        indexes, builds = {}, {}
        for codec in codecs:
            start = time.perf_counter()
            idx = vidx.Index(dim, metric=args.metric, quant=codec, M=16, ef_construction=200, threads=2, seed=0)
            idx.add(x)
            builds[codec] = time.perf_counter() - start
            idx.threads = 1
            indexes[codec] = idx
        print(f"\n{n} x {dim}: build s " + ", ".join(f"{c} {builds[c]:.1f}" for c in codecs)
              + "; memory MiB " + ", ".join(f"{c} {indexes[c].memory_usage() / 2**20:.1f}" for c in codecs))
        print(f"{'ef':>5} " + " ".join(f"{c + ' recall':>18} {c + ' QPS':>16}" for c in codecs) + f" {'ratio':>6}")
        for ef in efs:
            runs = {c: [] for c in codecs}
            recall = {}
            for _ in range(args.rounds):
                for c in codecs:
                    qps, recall[c] = qps_and_recall(indexes[c], q, truth, ef, 10)
                    runs[c].append(qps)
            med = {c: float(np.median(runs[c])) for c in codecs}
            print(f"{ef:>5} " + " ".join(f"{recall[c]:>18.4f} {med[c]:>16,.0f}" for c in codecs)
                  + f" {med[codecs[1]] / med[codecs[0]]:>5.2f}x", flush=True)


if __name__ == "__main__":
    main()
