"""How much beam each HNSW shard needs for an N-shard index to match one index's recall@10.

Emulates ShardedIndex in one process (no Ray): the same id-hash partition, the same add()
rounds of batch_size rows, the same options, and the exact top-k merge; each shard is searched
with a uniform (k_shard, ef_shard) and the merged recall is compared with the single index's at
each ef. Prints the grid and, for each candidate per-shard rule, its recall beside the single
index's.

    PYTHONPATH=python python3 benchmarks/shard_ef_sweep.py --n 200000 --shards 2 4
    PYTHONPATH=python python3 benchmarks/shard_ef_sweep.py --kind spann --n 60000 --shards 2 4

With --kind spann the swept setting is nprobe (posting lists read per shard) instead of ef.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import tempfile

import numpy as np

import vidx
import vidx.datasets
from vidx.distributed._merge import merge_topk
from vidx.distributed._routing import shard_of_ids, split_by_shard
from vidx.distributed.shard_ef import shard_search_widths

K = 10


def recall_at(found, truth, k=K):
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def build_shards(X, dim, metric, shards, options, batch_size=65536):
    """N indexes holding the rows ShardedIndex would send each shard, in the same rounds."""
    ids = np.arange(len(X), dtype=np.int64)
    indexes = [vidx.Index(dim, metric=metric, threads=0, **shard_options(options, s)) for s in range(shards)]
    for start in range(0, len(X), batch_size):
        part = slice(start, start + batch_size)
        where = shard_of_ids(ids[part], shards)
        for s, pos in enumerate(split_by_shard(where, shards)):
            if len(pos):
                indexes[s].add(X[part][pos], ids[part][pos])
    return indexes


def shard_options(options, shard):
    if options.get("kind") != "spann":
        return options
    return {**options, "path": os.path.join(options["path"], f"postings{shard}.bin")}


SETTING = "ef"  # the swept search setting: ef (HNSW) or nprobe (SPANN)


def merged_recall(indexes, Q, truth, widths):
    """widths: (k_shard, setting) of each shard."""
    parts = [(None, *index.search(Q, k_shard, **{SETTING: width})) for index, (k_shard, width) in zip(indexes, widths)]
    return recall_at(merge_topk(parts, len(Q), K)[1], truth)


def uniform(k_shard, ef_shard, n):
    return [(k_shard, ef_shard)] * n


# Candidate rules: [(k_shard, ef_shard)] by shard for a global ef, k and N shards.
RULES = {
    "full": lambda ef, k, n: uniform(k, ef, n),
    "ef/N, at least k": lambda ef, k, n: uniform(k, max(k, math.ceil(ef / n)), n),
    "ef/N": lambda ef, k, n: uniform(min(k, math.ceil(ef / n)), math.ceil(ef / n), n),
    "ef/sqrt(N)": lambda ef, k, n: uniform(min(k, round(ef / n ** 0.5)), round(ef / n ** 0.5), n),
    "split (default)": lambda ef, k, n: shard_search_widths(ef, k, n, n),
}

SPANN_RULES = {
    "full": lambda nprobe, k, n: uniform(k, nprobe, n),
    "nprobe/sqrt(N)": lambda nprobe, k, n: uniform(k, max(1, round(nprobe / n ** 0.5)), n),
    "nprobe/N": lambda nprobe, k, n: uniform(k, max(1, math.ceil(nprobe / n)), n),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="glove6b-50-angular")
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--efs", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    parser.add_argument("--grid", action="store_true", help="also print recall for uniform per-shard widths")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--kind", default="hnsw", choices=["hnsw", "spann"])
    args = parser.parse_args()
    global SETTING
    folder = tempfile.TemporaryDirectory(prefix="vidx-sweep-")
    if args.kind == "spann":
        SETTING = "nprobe"
        RULES.clear()
        RULES.update(SPANN_RULES)
        if args.efs == parser.get_default("efs"):
            args.efs = [8, 16, 32, 64]

    data = vidx.datasets.subset(vidx.datasets.load(args.dataset, download=False), args.n, args.queries)
    X, Q, truth = data.train, data.test, data.neighbors
    options = dict(M=16, ef_construction=100, seed=1)
    if args.kind == "spann":
        options.update(kind="spann", path=folder.name)
    print(f"# {data.name}: {len(X)} x {data.dim}, {len(Q)} queries, {data.vidx_metric}, HNSW {options}")
    # the reference: one index, all rows in one add() (as benchmarks/distributed_bench.py builds it)
    single = build_shards(X, data.dim, data.vidx_metric, 1, options, batch_size=len(X))[0]
    out = {"single": {ef: merged_recall([single], Q, truth, [(K, ef)]) for ef in args.efs}, "shards": {}}
    print("single: " + "  ".join(f"{SETTING} {ef}: {r:.4f}" for ef, r in out["single"].items()), flush=True)
    for shards in args.shards:
        indexes = build_shards(X, data.dim, data.vidx_metric, shards, options)
        row = out["shards"][shards] = {"rules": {}, "grid": {}}
        if args.grid:
            for ef_shard in [*range(2, 49), *range(56, 129, 8), 144, 160, 176, 192, 224, 256]:
                r = merged_recall(indexes, Q, truth, uniform(min(K, ef_shard), ef_shard, shards))
                row["grid"][ef_shard] = r
                print(f"shards {shards} k_shard {min(K, ef_shard):2d} ef_shard {ef_shard:3d}: {r:.4f}", flush=True)
        for name, rule in RULES.items():
            for ef in args.efs:
                widths = rule(ef, K, shards)
                r = merged_recall(indexes, Q, truth, widths)
                row["rules"].setdefault(name, {})[ef] = r
                shown = ",".join(f"{k_shard}/{width}" for k_shard, width in widths)
                print(f"shards {shards} rule {name:16s} {SETTING} {ef:3d} -> k/{SETTING} by shard {shown}: "
                      f"{r:.4f} (single {out['single'][ef]:.4f}, diff {r - out['single'][ef]:+.4f})", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
