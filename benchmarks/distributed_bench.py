"""Sharded vidx on a local Ray cluster (issue 12): recall@10 of an N-shard index against one index
with the same options, search throughput by shard count, and the fan-out overhead per query.

    PYTHONPATH=python python3 benchmarks/distributed_bench.py --n 200000 --queries 1000

Every index is HNSW with the same options; the sharded ones route by id hash and search with
ef_per_shard (default "auto": each shard walks about ef/sqrt(N)); the recall of "full" (every
shard walks the whole ef, the behaviour before that option) is printed beside it. Throughput is
batched search (all queries in one call); the fan-out overhead is the median single-query
latency through ShardedIndex minus that of the same Index searched in-process."""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import ray

import vidx
import vidx.datasets
from vidx.distributed import ShardedIndex


def recall_at(found, truth, k=10):
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def median_latency(search, queries, repeats):
    times = []
    for q in queries[:repeats]:
        start = time.perf_counter()
        search(q[None, :])
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def batched_qps(search, queries, rounds=3):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        search(queries)
        best = min(best, time.perf_counter() - start)
    return len(queries) / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="glove6b-50-angular")
    parser.add_argument("--n", type=int, default=200_000, help="train vectors used (the first n)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--efs", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    parser.add_argument("--M", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=100)
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--ef-per-shard", default="auto", choices=["auto", "split", "full"])
    args = parser.parse_args()

    data = vidx.datasets.subset(vidx.datasets.load(args.dataset, download=False), args.n, args.queries)
    X, Q, truth = data.train, data.test, data.neighbors
    options = dict(M=args.M, ef_construction=args.ef_construction, seed=1)
    print(f"# {data.name}: {len(X)} x {data.dim}, {len(Q)} queries, metric {data.vidx_metric}, HNSW {options}")
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
          f"cores (shared with other work), vidx {vidx.__version__}, ray {ray.__version__}")
    ray.init(num_cpus=max(2, max(args.shards)), include_dashboard=False, logging_level="ERROR", log_to_driver=False)

    start = time.perf_counter()
    single = vidx.Index(data.dim, metric=data.vidx_metric, threads=0, **options)
    single.add(X)
    print(f"single index built in {time.perf_counter() - start:.1f} s")
    for shards in args.shards:
        start = time.perf_counter()
        sharded = ShardedIndex(data.dim, data.vidx_metric, shards=shards, threads=max(1, (os.cpu_count() or 2) // shards), **options)
        sharded.add(X)
        built = time.perf_counter() - start
        for ef in args.efs:
            r_single = recall_at(single.search(Q, 10, ef=ef)[1], truth)
            r_sharded = recall_at(sharded.search(Q, 10, ef=ef, ef_per_shard=args.ef_per_shard)[1], truth)
            r_full = recall_at(sharded.search(Q, 10, ef=ef, ef_per_shard="full")[1], truth)
            qps_single = batched_qps(lambda q: single.search(q, 10, ef=ef), Q)
            qps_sharded = batched_qps(lambda q: sharded.search(q, 10, ef=ef, ef_per_shard=args.ef_per_shard), Q)
            print(f"shards {shards} ef {ef:4d}: recall@10 single {r_single:.4f} sharded {r_sharded:.4f} "
                  f"(diff {r_sharded - r_single:+.4f}; full ef per shard {r_full:.4f}, {r_full - r_single:+.4f}); "
                  f"batched QPS single {qps_single:8.0f} sharded {qps_sharded:8.0f}", flush=True)
        ef = 64
        lat_local = median_latency(lambda q: single.search(q, 10, ef=ef), Q, args.latency_queries)
        lat_sharded = median_latency(lambda q: sharded.search(q, 10, ef=ef, ef_per_shard=args.ef_per_shard), Q,
                                     args.latency_queries)
        print(f"shards {shards}: built in {built:.1f} s; one query at ef {ef}: in-process {lat_local * 1e3:.3f} ms, "
              f"sharded {lat_sharded * 1e3:.3f} ms, fan-out overhead {(lat_sharded - lat_local) * 1e3:.2f} ms/query",
              flush=True)
        sharded.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
