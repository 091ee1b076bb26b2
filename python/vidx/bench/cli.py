"""``vidx-bench`` / ``python -m vidx.bench``: flags, dataset choice, then run and report."""
from __future__ import annotations

import argparse
import sys

from .. import datasets
from . import peers, report, runner

DEFAULT_DATASET = "fashion-mnist-784-euclidean"
FALLBACK_SYNTHETIC = (50_000, 128)   # used when the default dataset is neither cached nor downloadable
QUICK_EFS = (10, 32, 128)
QUICK_QUERIES = 200


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _synthetic_shape(text: str) -> tuple[int, int]:
    values = _int_list(text)
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected N,DIM, got {text!r}")
    return values


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vidx-bench",
        description="Recall vs queries-per-second of vidx HNSW against hnswlib, faiss and usearch, "
                    "measured the ann-benchmarks way on an ann-benchmarks HDF5 dataset.")
    data = p.add_argument_group("data")
    data.add_argument("--dataset", metavar="NAME",
                      help=f"ann-benchmarks dataset name (default {DEFAULT_DATASET}; when it is neither "
                           f"cached nor downloadable, a generated clustered set "
                           f"{FALLBACK_SYNTHETIC[0]}x{FALLBACK_SYNTHETIC[1]} is used instead)")
    data.add_argument("--synthetic", metavar="N,DIM", type=_synthetic_shape,
                      help="benchmark a generated clustered dataset of N vectors of DIM dims instead")
    data.add_argument("--synthetic-metric", choices=sorted(datasets.VIDX_METRIC), default="euclidean",
                      help="metric of the generated dataset (default euclidean)")
    data.add_argument("--cache-dir", metavar="DIR",
                      help="dataset folder (default $VIDX_DATA, else ~/.cache/vidx)")
    data.add_argument("--no-download", action="store_true", help="never download a missing dataset")
    data.add_argument("--list-datasets", action="store_true", help="list the cached datasets and exit")

    algo = p.add_argument_group("algorithms")
    algo.add_argument("--algorithms", default=",".join(peers.ADAPTERS),
                      help=f"comma-separated, from {','.join(peers.ADAPTERS)} (default all; "
                           f"uninstalled ones are skipped)")
    algo.add_argument("--M", type=int, default=16, help="graph degree (default 16)")
    algo.add_argument("--ef-construction", type=int, default=200,
                      help="build-time search breadth (default 200)")
    algo.add_argument("--ef", type=_int_list,
                      help="search breadths to sweep (default "
                           f"{','.join(map(str, runner.DEFAULT_EFS))})")

    run = p.add_argument_group("measurement")
    run.add_argument("--k", type=int, default=10, help="neighbours per query (default 10)")
    run.add_argument("--queries", type=int,
                     help="queries in the single-thread latency loop (default 2000)")
    run.add_argument("--runs", type=int, help="repetitions of each timing, best reported (default 3)")
    run.add_argument("--threads", type=int, default=runner.cpu_count(),
                     help="threads for build and batch search (default: all cores, "
                          f"{runner.cpu_count()} here)")
    run.add_argument("--quick", action="store_true",
                     help=f"smoke test: ef {','.join(map(str, QUICK_EFS))}, {QUICK_QUERIES} queries, one run "
                          f"(explicit --ef/--queries/--runs still win)")
    run.add_argument("--out", default="bench-results", metavar="DIR",
                     help="folder for the JSON results and the plot (default bench-results/)")
    return p


def _config(args) -> runner.BenchConfig:
    quick = args.quick
    return runner.BenchConfig(
        k=args.k, M=args.M, ef_construction=args.ef_construction,
        efs=args.ef or (QUICK_EFS if quick else runner.DEFAULT_EFS),
        queries=args.queries or (QUICK_QUERIES if quick else 2000),
        runs=args.runs or (1 if quick else 3),
        threads=max(1, args.threads))


def _synthetic(n: int, dim: int, metric: str, log) -> datasets.Dataset:
    n_queries = min(1000, max(100, n // 10))
    n_clusters = min(n, max(4, n // 500))
    log(f"generating a clustered dataset: {n} x {dim}, {n_queries} queries, {n_clusters} clusters, "
        f"{metric}, with exact ground truth")
    return datasets.make_clustered(n, dim, n_queries=n_queries, n_clusters=n_clusters, metric=metric)


def _dataset(args, log) -> datasets.Dataset:
    if args.synthetic:
        return _synthetic(*args.synthetic, args.synthetic_metric, log)
    download = not args.no_download
    if args.dataset:  # asked for by name: a failure is the user's to see, not to paper over
        return datasets.load(args.dataset, cache_dir=args.cache_dir, download=download)
    try:
        return datasets.load(DEFAULT_DATASET, cache_dir=args.cache_dir, download=download)
    except (OSError, ImportError) as err:
        log(f"NOTE: the default dataset {DEFAULT_DATASET} is unavailable ({str(err).splitlines()[0]})")
        log("NOTE: falling back to a GENERATED clustered dataset; its numbers are not comparable "
            "with published ann-benchmarks results")
        return _synthetic(*FALLBACK_SYNTHETIC, "euclidean", log)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    if args.list_datasets:
        folder = datasets.cache_folder(args.cache_dir)
        names = datasets.available(args.cache_dir)
        log(f"{folder}: " + (", ".join(names) if names else "no datasets"))
        return 0
    try:
        adapters = peers.select([n.strip() for n in args.algorithms.split(",") if n.strip()], log)
        if not adapters:
            raise ValueError("none of the requested algorithms is installed")
        config = _config(args)
        dataset = _dataset(args, log)
        if dataset.neighbors.shape[1] < config.k:
            raise ValueError(f"{dataset.name} has ground truth for k <= {dataset.neighbors.shape[1]}")
    except (OSError, ValueError, ImportError) as err:
        print(f"vidx-bench: error: {err}", file=sys.stderr)
        return 2
    results = runner.run(dataset, adapters, config, log)
    report.write_all(results, args.out, log)
    return 1 if results["failures"] else 0  # the numbers that did come out are written either way
