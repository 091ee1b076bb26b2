"""HNSW search microbenchmarks on a 20k clustered set: one query per call, and a batch.

hnswlib with the same M / ef_construction runs in the same groups when installed, as the yardstick.
Each benchmark records its recall@10 in extra_info, so a speed-up bought with recall is visible.
Run: pytest benchmarks/bench_search.py  (see benchmarks/README.md)
"""
import importlib.util
import itertools

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")
vidx = pytest.importorskip("vidx", reason="vidx is not built/importable")
from vidx.datasets import make_clustered  # noqa: E402  (after the skip: needs vidx importable)

K = 10
M, EF_CONSTRUCTION = 16, 200
LIBRARIES = ["vidx"] + (["hnswlib"] if importlib.util.find_spec("hnswlib") else [])


@pytest.fixture(scope="module")
def dataset():
    return make_clustered(20_000, 128, n_queries=500, n_clusters=40, metric="euclidean", seed=0, k=K)


class _Vidx:
    def __init__(self, train):
        self.index = vidx.Index(train.shape[1], metric="l2", kind="hnsw", M=M,
                                ef_construction=EF_CONSTRUCTION, seed=0, threads=0)
        self.index.add(train)
        self.index.threads = 1

    def search(self, queries, ef, threads=1):
        self.index.threads = threads
        return self.index.search(queries, k=K, ef=ef)[1]


class _Hnswlib:
    def __init__(self, train):
        import hnswlib
        self.index = hnswlib.Index(space="l2", dim=train.shape[1])
        self.index.init_index(max_elements=len(train), M=M, ef_construction=EF_CONSTRUCTION, random_seed=0)
        self.index.add_items(train, np.arange(len(train)))

    def search(self, queries, ef, threads=1):
        self.index.set_ef(ef)
        return self.index.knn_query(queries, k=K, num_threads=threads)[0]


@pytest.fixture(scope="module", params=LIBRARIES)
def searcher(request, dataset):
    """Each library's index is built once per session; the benchmarks time only searches."""
    return request.param, {"vidx": _Vidx, "hnswlib": _Hnswlib}[request.param](dataset.train)


def _recall(ids, neighbors):
    return float(np.mean([len(set(row) & set(true)) / K for row, true in zip(ids, neighbors)]))


@pytest.mark.parametrize("ef", [16, 64, 256])
def test_hnsw_one_query(benchmark, dataset, searcher, ef):
    name, index = searcher
    benchmark.group = f"hnsw: 1 query, 20k x 128d, ef={ef}"
    queries = itertools.cycle(dataset.test)  # a different query each round, like real traffic
    benchmark(lambda: index.search(next(queries), ef))
    recall = _recall(index.search(dataset.test, ef), dataset.neighbors)
    benchmark.extra_info["recall@10"] = recall
    assert recall > 0.5, f"{name} recall {recall:.3f} at ef={ef}: benchmarking a broken search"


def test_hnsw_batch(benchmark, dataset, searcher):
    name, index = searcher
    benchmark.group = f"hnsw: batch of {len(dataset.test)} queries, ef=64, all cores"
    ids = benchmark(index.search, dataset.test, 64, 0 if name == "vidx" else -1)
    benchmark.extra_info["recall@10"] = _recall(ids, dataset.neighbors)
