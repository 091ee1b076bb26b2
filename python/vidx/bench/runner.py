"""The benchmark loop, the ann-benchmarks way: build each index once, then sweep the search breadth.

Every algorithm is built once with ``threads`` workers (seconds and memory recorded). Then the ef
sweep runs with the algorithms interleaved (ef 10 for every algorithm, then ef 16 for every one...),
so a change in machine load during the run hits every library alike; an algorithm leaves the sweep
after the first ef whose recall reaches ``stop_recall`` (None: sweep every ef). At each ef
  * single-thread QPS: a Python loop calling query_one on ``queries`` test vectors spread over the
    stored order (the first ones when exporting for ann-benchmarks: _single_rows), the
    whole loop timed (so call overhead counts, as it does for a user), best and median of ``runs``;
  * batch QPS: one query_batch call on every test vector with ``threads`` workers, best and median;
  * recall@k of the batch results over every test vector, and of the single-query results over
    their queries: each QPS is read at its own mode's recall (glass's batch takes an ef below k as
    it is and its single search does not, so the two can differ by more than the query sets do).
Timed loops run with Python's cyclic collector paused, as ``timeit`` runs them (``timing.py``).
The result is a plain dict (JSON-ready) consumed by ``report``.
"""
from __future__ import annotations

import gc
import numbers
import os
import platform
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from time import perf_counter

import numpy as np

from .. import datasets
from .peers import Adapter
from .progress import progress
from .recall import recall_at_k
from .timing import gc_paused, timed_call

DEFAULT_EFS = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
WARMUP_QUERIES = 50  # untimed queries per ef, so the first timed run does not pay for cold caches


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total, where known)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass
class BenchConfig:
    k: int = 10
    M: int = 16
    ef_construction: int = 200
    efs: tuple[int, ...] = DEFAULT_EFS
    queries: int = 2000   # test vectors used for the single-thread latency loop
    runs: int = 3         # repetitions of each timing; the best is reported, the median kept too
    threads: int = field(default_factory=cpu_count)
    stop_recall: float | None = None  # leave the sweep once recall reaches this (None: every ef)
    keep_answers: bool = False  # keep per-query ids and times in row["_answers"] (for exports)

    def __post_init__(self):
        # Checked here, before any build: a bad count otherwise surfaced only after every index
        # was built (queries < 1 in spread_rows), or never (k = 0 timed empty searches).
        for name in ("k", "M", "ef_construction", "queries", "runs", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.efs or any(isinstance(ef, bool) or not isinstance(ef, numbers.Integral) or ef < 1
                                for ef in self.efs):
            raise ValueError(f"efs must be positive integers, got {self.efs!r}")
        if self.stop_recall is not None and not 0.0 < self.stop_recall <= 1.0:
            raise ValueError(f"stop_recall must be in (0, 1] or None, got {self.stop_recall!r}")


def rss_bytes() -> int | None:
    """Resident memory of this process now, or None where it cannot be read cheaply."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:  # macOS and BSD: only the peak is available, which still grows with the build
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except (ImportError, OSError):
        return None


def _release_freed_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc), so the next build's RSS
    delta counts its own allocations instead of reusing the previous library's freed memory."""
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the delta is a little less precise
        pass


def run(dataset, adapters: list[type[Adapter]], config: BenchConfig, log=print) -> dict:
    """Benchmark every adapter class on `dataset`; returns the results dict."""
    results = {
        "dataset": describe_dataset(dataset),
        "config": {**asdict(config), "efs": list(config.efs)},
        "system": describe_system(adapters),
        "rows": [],
        "failures": {},
    }

    def guarded(name, step):
        # One library failing (a changed API, a crash in its build) must not cost the others' numbers.
        try:
            return step()
        except Exception as err:  # noqa: BLE001  (reported, and the run goes on)
            log(f"{name}: FAILED, skipped: {err!r}\n{traceback.format_exc()}")
            results["failures"][name] = repr(err)
            return None

    built: list[tuple[Adapter, dict]] = []
    try:
        for cls in adapters:
            adapter = cls()
            build = guarded(cls.name, lambda: _build_logged(adapter, dataset, config, log))
            if build is None:
                adapter.close()
            else:
                built.append((adapter, build))
        single_rows = _single_rows(len(dataset.test), config)
        singles = list(dataset.test[single_rows])  # row views: no copy inside the timed loop
        active = list(built)
        bar = progress(config.efs, desc="ef sweep")
        for ef in bar:
            for adapter, build in list(active):
                row = guarded(adapter.name, lambda: _row(adapter, build, ef, dataset, singles, single_rows, config))
                if row is None:
                    active.remove((adapter, build))
                    continue
                results["rows"].append(row)
                bar.set_postfix_str(f"{adapter.name} ef={ef} recall={row['recall']:.3f} "
                                    f"qps1={row['qps_single']:.0f}")
                # Both modes' recall: the summary reads each QPS at its own mode's.
                if config.stop_recall is not None and min(row["recall"], row["recall_single"]) >= config.stop_recall:
                    active.remove((adapter, build))
            if not active:
                break
    except KeyboardInterrupt:  # the rows measured so far are kept, and written by the caller
        results["interrupted"] = True
        log(f"interrupted: keeping the {len(results['rows'])} rows measured so far")
    finally:
        for adapter, _ in built:
            adapter.close()
        _release_freed_memory()
    order = {cls.name: i for i, cls in enumerate(adapters)}
    results["rows"].sort(key=lambda r: (order.get(r["algorithm"], len(order)), r["ef"]))
    return results


def _build_logged(adapter: Adapter, dataset, config: BenchConfig, log) -> dict:
    log(f"{adapter.name}: building on {len(dataset.train)} x {dataset.dim} ({dataset.vidx_metric}), "
        f"M={config.M} efC={config.ef_construction}, {config.threads} threads")
    build = _build(adapter, dataset, config)
    memory = build["memory_bytes"]
    log(f"{adapter.name}: built in {build['build_s']:.2f} s, "
        + ("memory unknown" if memory is None else f"{memory / 2**20:.1f} MiB ({build['memory_source']})"))
    return build


def _single_rows(n_test: int, config: BenchConfig) -> np.ndarray:
    """The test rows the single-query loop times: config.queries of them, spread over the stored
    order (the first rows of an ordered test set are no fair sample: datasets.spread_rows). An
    ann-benchmarks export times the first ones instead: ann-benchmarks scores row i of a run file
    against query i."""
    if config.keep_answers:
        return np.arange(min(n_test, config.queries))
    return datasets.spread_rows(n_test, config.queries)


def _row(adapter: Adapter, build: dict, ef: int, dataset, singles: list, single_rows: np.ndarray,
         config: BenchConfig) -> dict:
    adapter.set_ef(ef)
    return {"algorithm": adapter.name, "version": adapter.version(),
            "params": {"M": config.M, "ef_construction": config.ef_construction},
            "ef": ef, "k": config.k, "threads": config.threads, **build,
            **_measure(adapter, dataset, singles, single_rows, config)}


def _build(adapter: Adapter, dataset, config: BenchConfig) -> dict:
    _release_freed_memory()
    before = rss_bytes()
    seconds = adapter.build(dataset.train, dataset.vidx_metric, config.M, config.ef_construction,
                            config.threads)
    after = rss_bytes()
    rss_delta = None if before is None or after is None else max(0, after - before)
    own = adapter.memory_bytes()
    return {"build_s": seconds,
            "memory_bytes": own if own is not None else rss_delta,
            "memory_source": "library" if own is not None else "rss-delta",
            "rss_delta_bytes": rss_delta}


def _measure(adapter: Adapter, dataset, singles: list, single_rows: np.ndarray, config: BenchConfig) -> dict:
    k = config.k
    for q in singles[:WARMUP_QUERIES]:
        adapter.query_one(q, k)

    def single_loop():
        found = []
        for q in singles:
            found.append(adapter.query_one(q, k))
        return found

    def single_loop_with_laps():  # the same loop, also timing each query (for exports)
        found, laps = [], []
        for q in singles:
            start = perf_counter()
            found.append(adapter.query_one(q, k))
            laps.append(perf_counter() - start)
        return found, laps

    single_times, single_ids = _timed(single_loop, config.runs)
    batch_times, batch_ids = _timed(lambda: adapter.query_batch(dataset.test, k, config.threads),
                                    config.runs)
    n_single, n_batch = len(singles), len(dataset.test)

    def score(rows, ids):
        return recall_at_k(dataset.train, dataset.test[rows], ids, dataset.distances[rows], dataset.metric, k)

    answers = {}
    if config.keep_answers:
        with gc_paused():
            _, laps = single_loop_with_laps()
        answers = {"_answers": {"single_ids": np.stack(single_ids), "single_rows": single_rows,
                                "single_times": np.asarray(laps),
                                "single_best_time_per_query": min(single_times) / n_single,
                                "batch_ids": np.asarray(batch_ids),
                                "batch_time_per_query": min(batch_times) / n_batch}}
    return {**answers,
        "recall": score(np.arange(n_batch), np.asarray(batch_ids)),
        "recall_single": score(single_rows, np.stack(single_ids)),
        "qps_single": n_single / min(single_times),
        "qps_single_median": n_single / statistics.median(single_times),
        "qps_batch": n_batch / min(batch_times),
        "qps_batch_median": n_batch / statistics.median(batch_times),
        "queries_single": n_single,
        "queries_batch": n_batch,
    }


def _timed(fn, runs: int):
    """Wall seconds of each of `runs` calls of fn, and the last call's result."""
    times = []
    for _ in range(max(1, runs)):
        seconds, result = timed_call(fn)
        times.append(seconds)
    return times, result


def describe_dataset(dataset) -> dict:
    return {"name": dataset.name, "metric": dataset.metric, "vidx_metric": dataset.vidx_metric,
            "n_train": int(len(dataset.train)), "n_test": int(len(dataset.test)), "dim": dataset.dim,
            "path": str(dataset.path) if dataset.path else None, "generated": dataset.path is None}


def _cpu_model() -> str:
    """The CPU's marketing name: platform.processor() is often empty or just 'x86_64' on Linux."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_system(adapters) -> dict:
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "platform": platform.platform(),
            "machine": platform.machine(), "cpu": _cpu_model(), "cpus": cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "libraries": {cls.name: cls.version() for cls in adapters}}
