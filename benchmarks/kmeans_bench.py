"""vidx.kmeans against faiss.Kmeans in one process: the same points, k, iterations and thread count,
rounds alternating between the two, medians of the time ratio.

Both run Lloyd from k random points for exactly --iters updates (faiss with every point used:
max_points_per_centroid is raised so it does not subsample, and it stops only at niter; vidx may stop
earlier at a fixed point, and its time then covers fewer updates, so the table shows both counts).
Points are Gaussian rows (--data gauss) or a Gaussian mixture of 4 k tight clusters (--data mixture).
Inertia is each library's own assignment to its own centroids, summed in float64.

    python benchmarks/kmeans_bench.py                      # the default shapes, 1 and 2 threads
    python benchmarks/kmeans_bench.py --shapes 100000x16x1024 --threads 1 --rounds 5
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import vidx


def points(kind: str, n: int, dim: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "gauss":
        return rng.standard_normal((n, dim)).astype(np.float32)
    centres = rng.standard_normal((4 * k, dim)) * 4
    return (centres[rng.integers(0, 4 * k, n)] + rng.standard_normal((n, dim))).astype(np.float32)


def inertia(x: np.ndarray, centroids: np.ndarray, assignment: np.ndarray) -> float:
    diff = x.astype(np.float64) - centroids.astype(np.float64)[assignment]
    return float((diff * diff).sum())


def run_vidx(x, k, iters, threads, seed):
    t = time.perf_counter()
    r = vidx.kmeans(x, k, iters=iters, seed=seed, init="random", threads=threads)
    return time.perf_counter() - t, inertia(x, r.centroids, r.assignment), r.iterations


def run_faiss(x, k, iters, threads, seed):
    import faiss
    faiss.omp_set_num_threads(threads)
    km = faiss.Kmeans(x.shape[1], k, niter=iters, seed=seed, max_points_per_centroid=x.shape[0], verbose=False)
    t = time.perf_counter()
    km.train(x)
    seconds = time.perf_counter() - t
    _, a = km.index.search(x, 1)
    return seconds, inertia(x, km.centroids, a[:, 0]), iters


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="100000x8x1024,100000x16x1024,100000x32x1024,50000x8x4096,"
                                        "100000x64x256,100000x128x256,100000x128x1024",
                    help="comma-separated n x dim x k")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per shape and thread count")
    ap.add_argument("--data", choices=["gauss", "mixture"], default="gauss")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    import faiss  # noqa: F401  (fail before any work when it is missing)

    cpu = vidx.cpu_features()
    print(f"vidx {vidx.__version__}, SIMD {cpu['active']} ({cpu['vendor']}); "
          f"faiss {faiss.__version__}; data {args.data}, iters {args.iters}, rounds {args.rounds}")
    print(f"{'n x dim x k':>18} {'thr':>3} {'vidx s':>8} {'faiss s':>8} {'ratio':>6} {'(min-max)':>12} "
          f"{'inertia vidx/faiss':>18} {'vidx iters':>10}")
    for shape in args.shapes.split(","):
        n, dim, k = (int(v) for v in shape.split("x"))
        x = points(args.data, n, dim, k, args.seed)
        for threads in (int(t) for t in args.threads.split(",")):
            ours, theirs, ratios = [], [], []
            for _ in range(args.rounds):
                v = run_vidx(x, k, args.iters, threads, args.seed)
                f = run_faiss(x, k, args.iters, threads, args.seed)
                ours.append(v)
                theirs.append(f)
                ratios.append(v[0] / f[0])
            print(f"{shape:>18} {threads:>3} {statistics.median(o[0] for o in ours):8.2f} "
                  f"{statistics.median(t[0] for t in theirs):8.2f} {statistics.median(ratios):6.2f} "
                  f"{min(ratios):5.2f}-{max(ratios):<5.2f} {ours[0][1] / theirs[0][1]:18.4f} {ours[0][2]:10d}",
                  flush=True)


if __name__ == "__main__":
    main()
