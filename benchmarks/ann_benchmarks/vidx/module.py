"""vidx for ann-benchmarks: copy this folder to ann_benchmarks/algorithms/vidx/ in an
ann-benchmarks checkout (see ../README.md). Three constructors, one per index family:

  VidxHNSW(metric, {"M", "efConstruction"})                    query argument: ef
  VidxCompressed(metric, {"M", "efConstruction", "quant", "rerank"})   query argument: ef
  VidxSPANN(metric, {"head_ratio", "quant"})                   query arguments: nprobe, eps

Outside ann-benchmarks (tests, quick checks) the module works without it: BaseANN falls back to
a minimal local class with the same interface.
"""
import os
import shutil
import tempfile

import numpy as np

import vidx

try:  # inside ann-benchmarks
    from ..base.module import BaseANN
except ImportError:  # standalone: the part of ann-benchmarks' BaseANN this module relies on
    class BaseANN:
        def done(self):
            pass

        def get_memory_usage(self):
            return None

        def get_additional(self):
            return {}

        def __str__(self):
            return self.name

# ann-benchmarks metric names -> vidx metrics that rank the same way.
METRICS = {"euclidean": "l2", "angular": "cosine"}


def _vidx_metric(metric):
    if metric not in METRICS:
        raise NotImplementedError(f"vidx does not support the {metric!r} metric in ann-benchmarks")
    return METRICS[metric]


class _VidxBase(BaseANN):
    """fit / query / batch_query / get_batch_results over a vidx.Index."""

    def __init__(self, metric):
        self._metric = _vidx_metric(metric)
        self._index = None
        self._batch = None
        self._search_args = {}

    def _make_index(self, dim):
        raise NotImplementedError

    def fit(self, X):
        X = np.ascontiguousarray(X, dtype=np.float32)
        self._index = self._make_index(X.shape[1])
        self._index.add(X)  # ids 0..n-1, the row numbers ann-benchmarks expects

    def query(self, v, n):
        _, ids = self._index.search(np.asarray(v, dtype=np.float32), k=n, **self._search_args)
        row = ids[0]
        return row[row >= 0]

    def batch_query(self, X, n):
        _, self._batch = self._index.search(np.asarray(X, dtype=np.float32), k=n, **self._search_args)

    def get_batch_results(self):
        return [row[row >= 0] for row in self._batch]

    def get_memory_usage(self):
        # ann-benchmarks reports kilobytes.
        return None if self._index is None else self._index.memory_usage() / 1024

    def done(self):
        self._index = None


class VidxHNSW(_VidxBase):
    def __init__(self, metric, method_param):
        super().__init__(metric)
        self._M = int(method_param.get("M", 16))
        self._efc = int(method_param.get("efConstruction", 200))

    def _index_options(self):
        return {}

    def _make_index(self, dim):
        return vidx.Index(dim, metric=self._metric, kind="hnsw", M=self._M, ef_construction=self._efc,
                          **self._index_options())

    def set_query_arguments(self, ef):
        self._search_args = {"ef": int(ef)}
        self.name = f"vidx-hnsw(M={self._M}, efC={self._efc}, ef={ef})"


class VidxCompressed(VidxHNSW):
    def __init__(self, metric, method_param):
        super().__init__(metric, method_param)
        self._quant = method_param.get("quant", "lvq4x8")
        self._rerank = int(method_param.get("rerank", 0))

    def _index_options(self):
        return {"quant": self._quant, "rerank": self._rerank}

    def set_query_arguments(self, ef):
        self._search_args = {"ef": int(ef)}
        self.name = f"vidx-{self._quant}(M={self._M}, efC={self._efc}, rerank={self._rerank}, ef={ef})"


class VidxSPANN(_VidxBase):
    def __init__(self, metric, method_param):
        super().__init__(metric)
        self._options = {k: v for k, v in method_param.items() if k in ("head_ratio", "quant", "rerank", "replicas")}
        self._folder = None

    def _make_index(self, dim):
        # The posting lists live in a file; a temporary folder holds it for the run.
        self._folder = tempfile.mkdtemp(prefix="vidx-spann-")
        return vidx.Index(dim, metric=self._metric, kind="spann",
                          path=os.path.join(self._folder, "lists.vpost"), **self._options)

    def set_query_arguments(self, nprobe, eps=0.0):
        self._search_args = {"nprobe": int(nprobe), "eps": float(eps)}
        self.name = f"vidx-spann({self._options}, nprobe={nprobe}, eps={eps})"

    def done(self):
        super().done()
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
