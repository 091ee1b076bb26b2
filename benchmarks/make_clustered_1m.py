"""Writes a 1M x 128 clustered dataset with exact ground truth, in the ann-benchmarks HDF5
layout (train, test, neighbors, distances; attribute distance="euclidean"), into the vidx
cache folder (~/.cache/vidx, or $VIDX_DATA) as clustered-1m-128-euclidean.hdf5.

The data imitate embeddings rather than isotropic noise: 2000 clusters of uneven size, each a
Gaussian on its own random 16-dimensional subspace plus a little full-rank noise, so that
neighbourhoods have the low intrinsic dimension that real embeddings have. Queries are fresh
draws from the same mixture. Ground truth is exact: blocked float32 matrix products pick
candidates, which are re-scored in float64 (top 100, ties by smaller id).

    python benchmarks/make_clustered_1m.py [--n 1000000] [--dim 128] [--queries 10000]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from workload_args import workload_parser


def cache_folder() -> Path:
    return Path(os.environ.get("VIDX_DATA") or Path.home() / ".cache" / "vidx")


def generate(n, dim, n_queries, n_clusters=2000, sub_dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, dim)).astype(np.float32) * 3.0
    bases = rng.standard_normal((n_clusters, sub_dim, dim)).astype(np.float32) / np.sqrt(sub_dim)
    scales = rng.uniform(0.5, 1.5, n_clusters).astype(np.float32)
    weights = rng.dirichlet(np.full(n_clusters, 2.0))

    def draw(count, r):
        labels = r.choice(n_clusters, size=count, p=weights)
        z = r.standard_normal((count, sub_dim)).astype(np.float32)
        x = centers[labels] + scales[labels, None] * np.einsum("ns,nsd->nd", z, bases[labels])
        x += 0.05 * r.standard_normal((count, dim)).astype(np.float32)
        return x.astype(np.float32)

    train = np.empty((n, dim), np.float32)
    block = 100_000
    for s in range(0, n, block):
        train[s:s + block] = draw(min(block, n - s), np.random.default_rng([seed, 1, s]))
    test = draw(n_queries, np.random.default_rng([seed, 2]))
    return train, test


def exact_l2(train, queries, k=100, slack=16, qblock=1024, tblock=131072):
    """Exact k nearest (squared L2) by blocked matmul; returns (ids int32, L2 distances float32)."""
    n = train.shape[0]
    sq = np.einsum("ij,ij->i", train, train)
    keep = k + slack
    ids_out = np.empty((len(queries), k), np.int32)
    dist_out = np.empty((len(queries), k), np.float32)
    t0 = time.time()
    for qs in range(0, len(queries), qblock):
        q = queries[qs:qs + qblock]
        cand_s = []
        cand_i = []
        for ts in range(0, n, tblock):
            tb = train[ts:ts + tblock]
            score = sq[None, ts:ts + tblock] - 2.0 * (q @ tb.T)
            m = min(keep, tb.shape[0])
            part = np.argpartition(score, m - 1, axis=1)[:, :m]
            cand_s.append(np.take_along_axis(score, part, 1))
            cand_i.append(part + ts)
        s = np.concatenate(cand_s, 1)
        i = np.concatenate(cand_i, 1)
        top = np.argpartition(s, keep - 1, axis=1)[:, :keep]
        cand = np.take_along_axis(i, top, 1)
        # float64 re-score, sort by distance then id
        diff = train[cand].astype(np.float64) - q[:, None, :].astype(np.float64)
        d = np.sqrt(np.einsum("qmd,qmd->qm", diff, diff))
        order = np.lexsort((cand, d), axis=1)[:, :k]
        ids_out[qs:qs + len(q)] = np.take_along_axis(cand, order, 1)
        dist_out[qs:qs + len(q)] = np.take_along_axis(d, order, 1)
        print(f"\rground truth {qs + len(q)}/{len(queries)} ({time.time() - t0:.0f} s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    return ids_out, dist_out


def main():
    ap = workload_parser(__doc__, queries_flag="--queries")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import h5py

    name = f"clustered-{args.n // 1_000_000}m-{args.dim}-euclidean" if args.n % 1_000_000 == 0 else \
        f"clustered-{args.n}-{args.dim}-euclidean"
    out = args.out or cache_folder() / f"{name}.hdf5"
    out.parent.mkdir(parents=True, exist_ok=True)
    t = time.time()
    train, test = generate(args.n, args.dim, args.queries, seed=args.seed)
    print(f"generated {train.shape} in {time.time() - t:.0f} s", file=sys.stderr)
    ids, dist = exact_l2(train, test)
    tmp = out.with_suffix(".tmp.hdf5")
    with h5py.File(tmp, "w") as f:
        f.attrs["distance"] = "euclidean"
        f.attrs["dimension"] = args.dim
        f.attrs["point_type"] = "float"
        f.create_dataset("train", data=train)   # contiguous: vidx streams it straight from disk
        f.create_dataset("test", data=test)
        f.create_dataset("neighbors", data=ids)
        f.create_dataset("distances", data=dist)
    os.replace(tmp, out)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.0f} MiB) in {time.time() - t:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
