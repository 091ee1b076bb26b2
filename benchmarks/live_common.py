"""Shared pieces of the living-index benchmarks (live_deletes.py, live_concurrency.py): the data,
exact ground truth over any subset of rows, recall, and provenance lines for the results file."""
from __future__ import annotations

import os
import platform
import time

import numpy as np

import vidx
from vidx.datasets import exact_knn, load, spread_rows, true_distances


def load_rows(name: str, n: int | None, nq: int, seed: int):
    """(train, test, metric, note): ``n`` train rows drawn at random (seeded; None or >= size: all,
    in file order) and ``nq`` test queries spread over the stored order. Not the first rows,
    because glove's rows (its queries too) are sorted by word frequency."""
    ds = load(name, download=False)
    train = ds.train
    note = f"{name}: all {len(train)} train rows"
    if n is not None and n < len(train):
        pick = np.sort(np.random.default_rng(seed).choice(len(train), n, replace=False))
        train = np.ascontiguousarray(train[pick])
        note = f"{name}: {n} of {len(ds.train)} train rows drawn at random (seed {seed}), file order kept"
    test = np.ascontiguousarray(ds.test[spread_rows(len(ds.test), nq)])
    return train, test, ds.metric, note + f", {len(test)} test queries spread over the stored order"


def exact_top(train: np.ndarray, ids: np.ndarray, test: np.ndarray, metric: str, k: int = 10) -> np.ndarray:
    """Exact top-k user ids among rows ``train[ids]`` (ids are row numbers), closest first."""
    local, _ = exact_knn(train[ids], test, metric, k=k)
    return ids[local]


def recall_at(found: np.ndarray, truth: np.ndarray, train: np.ndarray, test: np.ndarray, metric: str) -> float:
    """ann-benchmarks recall@k: a returned id counts when its true distance is within the k-th
    true distance x (1 + 1e-3), so ties among equidistant rows are not held against a result."""
    k = truth.shape[1]
    limit = true_distances(train, test, truth, metric)[:, k - 1:k] * (1 + 1e-3) + 1e-6
    got = true_distances(train, test, np.where(found >= 0, found, -1), metric)
    return float(np.mean(np.sum(got <= limit, axis=1) / k))


def recall_by_ef(idx, test, truth, train, metric, efs) -> dict[int, float]:
    out = {}
    for ef in efs:
        _, found = idx.search(test, k=truth.shape[1], ef=ef)
        out[ef] = round(recall_at(found, truth, train, test, metric), 4)
    return out


def timed(fn, *args, **kw):
    t = time.perf_counter()
    value = fn(*args, **kw)
    return value, time.perf_counter() - t


def machine_line() -> str:
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} vCPUs, {platform.python_implementation()} {platform.python_version()}, "
            f"load {load1:.1f} at start; vidx from {os.path.dirname(vidx.__file__)}")
