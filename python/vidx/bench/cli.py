"""``vidx-bench`` / ``python -m vidx.bench``: flags, dataset choice, then run and report."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .. import datasets
from . import peers, report, runner
from .arguments import beam, beam_list, count, degree, int_list, recall_target

DEFAULT_DATASET = "fashion-mnist-784-euclidean"
FALLBACK_SYNTHETIC = (50_000, 128)   # used when the default dataset is neither cached nor downloadable
QUICK_EFS = (10, 32, 128)
QUICK_QUERIES = 200

# The default run is sized to finish in about a minute on 2 idle cores and still compare the libraries
# on real data with exact ground truth: FIRST_RUN_TRAIN train vectors and FIRST_RUN_TEST queries
# spread evenly over the stored order (datasets.subset), each library's ef sweep stopping once
# recall@k reaches FIRST_RUN_STOP_RECALL.
# --full runs the whole ann-benchmarks set, every query, the whole sweep, best of 3.
FIRST_RUN_TRAIN = 10_000
FIRST_RUN_TEST = 500
FIRST_RUN_QUERIES = 300
FIRST_RUN_RUNS = 2
FIRST_RUN_STOP_RECALL = 0.99
FULL_QUERIES = 2000
FULL_RUNS = 3


def _synthetic_shape(text: str) -> tuple[int, int]:
    values = int_list(text)
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
    algo.add_argument("--algorithms", default=",".join(peers.DEFAULT_ALGORITHMS),
                      help=f"comma-separated, from {','.join(peers.ADAPTERS)}, each with an optional "
                           f":VARIANT (vidx:QUANT, e.g. vidx:f32 or vidx:lvq8; default "
                           f"{','.join(peers.DEFAULT_ALGORITHMS)}; uninstalled ones are skipped)")
    algo.add_argument("--M", type=degree, default=16, help="graph degree (default 16)")
    algo.add_argument("--ef-construction", type=beam, default=200,
                      help="build-time search breadth (default 200)")
    algo.add_argument("--ef", type=beam_list,
                      help="search breadths to sweep (default "
                           f"{','.join(map(str, runner.DEFAULT_EFS))})")

    run = p.add_argument_group("measurement")
    run.add_argument("--k", type=count, default=10, help="neighbours per query (default 10)")
    run.add_argument("--queries", type=count,
                     help="queries in the single-thread latency loop (default 2000)")
    run.add_argument("--runs", type=count, help="repetitions of each timing, best reported (default 3)")
    run.add_argument("--threads", type=count, default=runner.cpu_count(),
                     help="threads for build and batch search (default: all cores, "
                          f"{runner.cpu_count()} here)")
    run.add_argument("--full", action="store_true",
                     help="the full ann-benchmarks-size run: every train and test vector, the whole ef "
                          f"sweep, {FULL_QUERIES} single-thread queries, best of {FULL_RUNS} (the default "
                          f"is a first run of about a minute: {FIRST_RUN_TRAIN} train vectors, "
                          f"{FIRST_RUN_TEST} queries, each sweep stopping at recall {FIRST_RUN_STOP_RECALL})")
    run.add_argument("--train-size", type=count, metavar="N",
                     help="use N train vectors spread evenly over the stored order (exact ground truth "
                          "recomputed)")
    run.add_argument("--test-size", type=count, metavar="Q",
                     help="use Q test vectors spread evenly over the stored order")
    run.add_argument("--stop-recall", type=recall_target, metavar="R",
                     help="leave an algorithm's sweep once its recall reaches R, in (0, 1]")
    run.add_argument("--quick", action="store_true",
                     help=f"smoke test: ef {','.join(map(str, QUICK_EFS))}, {QUICK_QUERIES} queries, one run "
                          f"(explicit --ef/--queries/--runs still win)")
    run.add_argument("--export-ann-benchmarks", metavar="DIR",
                     help="also write every run in ann-benchmarks' per-run HDF5 layout under DIR "
                          "(DIR/{dataset}/{k}/{algorithm}[-batch]/*.hdf5; its plot.py reads them)")
    run.add_argument("--out", default="bench-results", metavar="DIR",
                     help="folder for the JSON results and the plot (default bench-results/)")
    return p


def _mode(args) -> str:
    if args.full and args.quick:
        raise ValueError("--full and --quick exclude each other")
    return "full" if args.full else "quick" if args.quick else "first-run"


def _config(args) -> runner.BenchConfig:
    mode = _mode(args)
    efs = {"quick": QUICK_EFS}.get(mode, runner.DEFAULT_EFS)
    queries = {"quick": QUICK_QUERIES, "full": FULL_QUERIES}.get(mode, FIRST_RUN_QUERIES)
    runs = {"quick": 1, "full": FULL_RUNS}.get(mode, FIRST_RUN_RUNS)
    stop = FIRST_RUN_STOP_RECALL if mode == "first-run" else None
    return runner.BenchConfig(
        k=args.k, M=args.M, ef_construction=args.ef_construction,
        efs=_given(args.ef, efs), queries=_given(args.queries, queries), runs=_given(args.runs, runs),
        threads=args.threads, keep_answers=bool(args.export_ann_benchmarks),
        stop_recall=_given(args.stop_recall, stop))


def _given(value, default):
    """The flag's value when given: `value or default` would read an explicit 0 as "not given"."""
    return default if value is None else value


def _sized(dataset: datasets.Dataset, args, log) -> datasets.Dataset:
    """The default first run uses part of a real dataset; --full and explicit sizes override."""
    first_run = _mode(args) == "first-run" and dataset.path is not None
    n_train = _given(args.train_size, FIRST_RUN_TRAIN if first_run else None)
    n_test = _given(args.test_size, FIRST_RUN_TEST if first_run else None)
    if n_train is None and n_test is None:
        return dataset
    small = datasets.subset(dataset, n_train, n_test)
    if small is not dataset and first_run:
        log(f"first run: {len(small.train)} of {len(dataset.train)} train vectors, {len(small.test)} of "
            f"{len(dataset.test)} queries, exact ground truth recomputed (the whole set: --full)")
    return small


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
    # Only a default dataset that is not cached and could not be had falls back. A cached one
    # that cannot be read (truncated, damaged) is reported: replacing it with generated numbers
    # would hide a file the user has to delete.
    cached = (datasets.cache_folder(args.cache_dir) / f"{DEFAULT_DATASET}.hdf5").exists()
    try:
        return datasets.load(DEFAULT_DATASET, cache_dir=args.cache_dir, download=download)
    except (OSError, ImportError) as err:
        if cached:
            raise
        log(f"NOTE: the default dataset {DEFAULT_DATASET} is unavailable ({str(err).splitlines()[0]})")
        log("NOTE: falling back to a GENERATED clustered dataset; its numbers are not comparable "
            "with published ann-benchmarks results")
        return _synthetic(*FALLBACK_SYNTHETIC, "euclidean", log)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def log(message: str) -> None:
        try:
            print(message, flush=True)
        except BrokenPipeError:  # `vidx-bench | head`: the reader left; the run still writes --out
            _discard_stdout()

    if args.list_datasets:
        folder = datasets.cache_folder(args.cache_dir)
        names = datasets.available(args.cache_dir)
        log(f"{folder}: " + (", ".join(names) if names else "no datasets"))
        return 0
    try:
        if args.synthetic and args.dataset:
            raise ValueError("--dataset and --synthetic name two datasets: give one")
        adapters = peers.select([n.strip() for n in args.algorithms.split(",") if n.strip()], log)
        if not adapters:
            raise ValueError("none of the requested algorithms is installed")
        config = _config(args)
        dataset = _sized(_dataset(args, log), args, log)
        if dataset.neighbors.shape[1] < config.k:
            raise ValueError(f"{dataset.name} has ground truth for k <= {dataset.neighbors.shape[1]}")
        # Checked before the run, not after it: a folder that cannot be written would cost every
        # figure the run measured.
        for folder in (args.out, args.export_ann_benchmarks):
            if folder:
                _writable_folder(folder)
    except (OSError, ValueError, ImportError) as err:
        print(f"vidx-bench: error: {err}", file=sys.stderr)
        return 2
    results = runner.run(dataset, adapters, config, log)  # Ctrl-C ends the sweep; its rows are kept
    # The table and JSON first: an export that fails (a full disk, memory) must not cost them.
    answers = [row.pop("_answers", None) for row in results["rows"]]
    try:
        report.write_all(results, args.out, log)
    except OSError as err:
        print(f"vidx-bench: error: could not write the results: {err}", file=sys.stderr)
        return 1
    if args.export_ann_benchmarks:
        from . import ann_export
        for row, kept in zip(results["rows"], answers):
            row["_answers"] = kept
        try:
            ann_export.export(results, dataset, args.export_ann_benchmarks, log)
        except (OSError, MemoryError) as err:
            print(f"vidx-bench: error: could not write the ann-benchmarks export (the table and JSON are "
                  f"written): {err!r}", file=sys.stderr)
            return 1
        finally:
            ann_export.strip_answers(results)
    if results.get("interrupted"):
        return 130
    return 1 if results["failures"] else 0  # the numbers that did come out are written either way


def _discard_stdout() -> None:
    """Points stdout at the null device, so the lines still to come, and the flush at exit, do not
    raise again once the reader of a pipe has gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _writable_folder(folder) -> None:
    """Creates `folder` if needed; OSError naming it when it is not a folder this process can write."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"output folder {folder} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise OSError(f"cannot write to output folder {folder}: {err.strerror or err}") from err
