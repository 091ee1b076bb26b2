"""Interleaved head-to-head of vidx HNSW against its peers, for figures quoted as ratios.

On a shared, noisy machine a sweep of one library after another lets load drift bias the
comparison. Here every measurement alternates between the libraries: builds are repeated
round-robin (vidx, hnswlib, faiss, usearch, vidx, ...), and for each ef every repetition of
the single-query loop visits all libraries in turn. Medians are reported, and the ratios
are taken between medians measured in the same rounds.

    python benchmarks/head_to_head.py fashion-mnist-784-euclidean --build-rounds 3 --rounds 5
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from time import perf_counter

import numpy as np

from vidx import datasets
from vidx.bench import peers
from vidx.bench.recall import recall_at_k


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset")
    p.add_argument("--algorithms", default="vidx,hnswlib,faiss,usearch")
    p.add_argument("--M", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--ef", default="10,12,14,16,20,24,32,48,64,96,128")
    p.add_argument("--threads", type=int, default=2, help="build threads (default 2)")
    p.add_argument("--queries", type=int, default=1000, help="queries in each single-query loop")
    p.add_argument("--build-rounds", type=int, default=3)
    p.add_argument("--rounds", type=int, default=5, help="repetitions of each single-query loop")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--json", help="write the raw measurements here")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    data = datasets.load(args.dataset, download=False)
    metric = data.vidx_metric
    efs = [int(e) for e in args.ef.split(",")]
    adapters = {a.name: a for a in peers.select(args.algorithms.split(","), print)}
    names = list(adapters)
    print(f"{data.name}: train {data.train.shape}, {args.queries} queries, metric {metric}, "
          f"M={args.M} efC={args.ef_construction}, build threads {args.threads}", flush=True)

    # Builds, round-robin; the last build of each library is kept for the searches.
    builds = {n: [] for n in names}
    built = {}
    for r in range(args.build_rounds):
        for n in names:
            if n in built:
                built[n].close()
            a = adapters[n]()
            builds[n].append(a.build(data.train, metric, args.M, args.ef_construction, args.threads))
            built[n] = a
            print(f"  build round {r + 1} {n}: {builds[n][-1]:.2f} s", flush=True)

    queries = data.test[: args.queries]
    rows = []
    for ef in efs:
        times = {n: [] for n in names}
        recalls = {}
        for n in names:
            built[n].set_ef(ef)
        for _ in range(args.rounds):
            for n in names:
                a = built[n]
                start = perf_counter()
                ids = [a.query_one(q, args.k) for q in queries]
                times[n].append(perf_counter() - start)
                recalls[n] = recall_at_k(data.train, queries, np.vstack(ids), data.distances, data.metric, args.k)
        for n in names:
            rows.append({"algorithm": n, "ef": ef, "recall": recalls[n],
                         "qps_median": len(queries) / statistics.median(times[n]),
                         "qps_all": [len(queries) / t for t in times[n]]})
        print("  ef %4d  " % ef + "  ".join(
            f"{n} r={recalls[n]:.4f} qps={len(queries) / statistics.median(times[n]):8.0f}" for n in names), flush=True)

    print()
    print(f"build seconds (median of {args.build_rounds}, {args.threads} threads): " +
          ", ".join(f"{n} {statistics.median(builds[n]):.2f}" for n in names))
    for target in (0.90, 0.95):
        best = {}
        for n in names:
            ok = [r for r in rows if r["algorithm"] == n and r["recall"] >= target]
            best[n] = max(ok, key=lambda r: r["qps_median"]) if ok else None
        line = [f"recall>={target:.2f}:"]
        for n in names:
            b = best[n]
            line.append(f"{n} " + (f"{b['qps_median']:.0f} qps (ef {b['ef']})" if b else "not reached"))
        print("  ".join(line))
        if best.get("vidx"):
            for n in names:
                if n != "vidx" and best[n]:
                    print(f"    vidx / {n}: QPS {best['vidx']['qps_median'] / best[n]['qps_median']:.2f}x, "
                          f"build time {statistics.median(builds['vidx']) / statistics.median(builds[n]):.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dataset": data.name, "args": vars(args), "builds": builds, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
