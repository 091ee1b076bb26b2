"""One adapter per library, so the runner treats vidx and its peers identically.

Every adapter takes a vidx metric name ("l2", "ip", "cosine") and answers:
  build(train, metric, M, efc, threads) -> seconds   construct and add everything with `threads` workers
  set_ef(ef)                                         search breadth for the following queries
  query_one(q, k) -> ids (k,)                        one query, one thread (latency mode)
  query_batch(Q, k, threads) -> ids (q, k)           all queries with `threads` workers
  memory_bytes() -> int | None                       the library's own count of its memory, if it has one
Missing results are -1. Outside build and query_batch an adapter stays single-threaded, so query_one
measures one core. Libraries are imported only when an adapter is used, so a missing peer costs nothing.
"""
from __future__ import annotations

import importlib
from importlib import metadata
from time import perf_counter

import numpy as np


class Adapter:
    name = ""
    module = ""  # the import that must succeed for the adapter to be usable
    distribution = ""  # the installed package to ask for the version, where the module has no __version__

    @classmethod
    def available(cls) -> bool:
        try:
            importlib.import_module(cls.module)
        except ImportError:
            return False
        return True

    @classmethod
    def version(cls) -> str:
        if cls.distribution:
            try:
                return metadata.version(cls.distribution)
            except metadata.PackageNotFoundError:
                return "unknown"
        return str(getattr(importlib.import_module(cls.module), "__version__", "unknown"))

    def memory_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        """Drop the index so its memory is freed before the next library is measured."""
        self.index = None


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """x with each row scaled to length 1 (zero rows stay zero), float32 and contiguous: for
    libraries without a cosine metric, where inner product on unit vectors ranks the same way."""
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norms == 0, 1, norms), dtype=np.float32)


def _pad(ids, k: int) -> np.ndarray:
    out = np.full(k, -1, dtype=np.int64)
    out[: len(ids)] = ids
    return out


class VidxHNSW(Adapter):
    name = "vidx"
    module = "vidx"

    def build(self, train, metric, M, efc, threads):
        import vidx
        start = perf_counter()
        self.index = vidx.Index(train.shape[1], metric=metric, kind="hnsw", M=M,
                                ef_construction=efc, seed=0, threads=threads)
        self.index.add(train)
        seconds = perf_counter() - start
        self.index.threads = 1
        self.ef = None
        return seconds

    def set_ef(self, ef):
        self.ef = ef

    def query_one(self, q, k):
        return self.index.search(q, k=k, ef=self.ef)[1][0]

    def query_batch(self, Q, k, threads):
        self.index.threads = threads
        try:
            return self.index.search(Q, k=k, ef=self.ef)[1]
        finally:
            self.index.threads = 1

    def memory_bytes(self):
        return int(self.index.memory_usage())


class Hnswlib(Adapter):
    name = "hnswlib"
    module = "hnswlib"
    distribution = "hnswlib"  # no __version__
    SPACE = {"l2": "l2", "ip": "ip", "cosine": "cosine"}

    def build(self, train, metric, M, efc, threads):
        import hnswlib
        start = perf_counter()
        self.index = hnswlib.Index(space=self.SPACE[metric], dim=train.shape[1])
        self.index.init_index(max_elements=len(train), ef_construction=efc, M=M, random_seed=0)
        self.index.add_items(train, np.arange(len(train)), num_threads=threads)
        seconds = perf_counter() - start
        self.index.set_num_threads(1)
        return seconds

    def set_ef(self, ef):
        self.index.set_ef(ef)

    def query_one(self, q, k):
        return self.index.knn_query(q, k=k, num_threads=1)[0][0]

    def query_batch(self, Q, k, threads):
        return self.index.knn_query(Q, k=k, num_threads=threads)[0]


class FaissHNSW(Adapter):
    name = "faiss"
    module = "faiss"

    def build(self, train, metric, M, efc, threads):
        import faiss
        self._faiss = faiss
        self._omp_default = faiss.omp_get_max_threads()
        # faiss has no cosine metric: inner product on unit vectors ranks the same way.
        self._normalize = metric == "cosine"
        kind = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        faiss.omp_set_num_threads(threads)
        start = perf_counter()
        self.index = faiss.IndexHNSWFlat(train.shape[1], M, kind)
        self.index.hnsw.efConstruction = efc
        self.index.add(self._prepare(train))
        seconds = perf_counter() - start
        faiss.omp_set_num_threads(1)
        return seconds

    def _prepare(self, x):
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, self.index.d)
        return _unit_rows(x) if self._normalize else x

    def set_ef(self, ef):
        self.index.hnsw.efSearch = ef

    def query_one(self, q, k):
        # Normalising inside the timed call is the real cost of cosine search with faiss.
        return self.index.search(self._prepare(q), k)[1][0]

    def query_batch(self, Q, k, threads):
        self._faiss.omp_set_num_threads(threads)
        try:
            return self.index.search(self._prepare(Q), k)[1]
        finally:
            self._faiss.omp_set_num_threads(1)

    def close(self):
        if getattr(self, "_faiss", None) is not None:
            self._faiss.omp_set_num_threads(self._omp_default)
        super().close()


class USearch(Adapter):
    name = "usearch"
    module = "usearch.index"
    METRIC = {"l2": "l2sq", "ip": "ip", "cosine": "cos"}

    @classmethod
    def version(cls) -> str:
        return str(getattr(importlib.import_module("usearch"), "__version__", "unknown"))

    def build(self, train, metric, M, efc, threads):
        from usearch.index import Index
        start = perf_counter()
        # dtype is explicit: usearch may otherwise pick a compressed scalar type for the vectors.
        self.index = Index(ndim=train.shape[1], metric=self.METRIC[metric], dtype="f32",
                           connectivity=M, expansion_add=efc)
        self.index.add(np.arange(len(train), dtype=np.uint64), train, threads=threads)
        return perf_counter() - start

    def set_ef(self, ef):
        self.index.expansion_search = ef

    def query_one(self, q, k):
        return _pad(self.index.search(q, k, threads=1).keys, k)

    def query_batch(self, Q, k, threads):
        found = self.index.search(Q, k, threads=threads)
        ids = found.keys.astype(np.int64)
        ids[np.arange(k)[None, :] >= found.counts[:, None]] = -1  # slots past each row's count are junk
        return ids

    def memory_bytes(self):
        return int(self.index.memory_usage)


class Glass(Adapter):
    """pyglass-portable (imported as glass): HNSW built with R = 2M level-0 links, searched in
    float32 (FP32 quantizer, no refine) so that it is a float32 graph peer."""
    name = "glass"
    module = "glass"
    distribution = "pyglass-portable"

    def build(self, train, metric, M, efc, threads):
        import glass
        self._glass = glass
        # glass has no cosine metric: inner product on unit vectors ranks the same way.
        self._normalize = metric == "cosine"
        self._metric = "L2" if metric == "l2" else "IP"
        glass.set_num_threads(threads)
        start = perf_counter()
        data = self._prepare(train)
        graph = glass.Index("HNSW", metric=self._metric, R=2 * M, L=efc).build(data)
        self.index = glass.Searcher(graph, data, self._metric, "FP32")
        seconds = perf_counter() - start
        self.index.optimize(1)  # glass's own prefetch tuning for search, not counted as build
        glass.set_num_threads(1)
        return seconds

    def _prepare(self, x):
        x = np.ascontiguousarray(x, dtype=np.float32)
        return _unit_rows(x) if self._normalize else x

    def set_ef(self, ef):
        self.index.set_ef(ef)

    def query_one(self, q, k):
        return np.asarray(self.index.search(self._prepare(q), k)[0], dtype=np.int64).reshape(-1)[:k]

    def query_batch(self, Q, k, threads):
        return np.asarray(self.index.batch_search(self._prepare(Q), k, threads)[0], dtype=np.int64).reshape(len(Q), k)


ADAPTERS = {cls.name: cls for cls in (VidxHNSW, Hnswlib, FaissHNSW, USearch, Glass)}


def select(names, log=print) -> list[type[Adapter]]:
    """The adapter classes for `names`, in order; unknown names raise, uninstalled ones are skipped."""
    unknown = [n for n in names if n not in ADAPTERS]
    if unknown:
        raise ValueError(f"unknown algorithm(s) {', '.join(unknown)}; choose from {', '.join(ADAPTERS)}")
    chosen = []
    for name in names:
        cls = ADAPTERS[name]
        if cls.available():
            chosen.append(cls)
        else:
            log(f"skipping {name}: python module {cls.module!r} is not installed "
                f"(pip install vidx[bench] installs every peer)")
    return chosen
