"""Distance-kernel microbenchmarks, seen through exact search: one query against 10k vectors.

A flat index computes one distance per stored vector, so its single-query time is the kernel's time
plus a fixed call overhead. numpy (BLAS) on the same data is the yardstick in each group.
Run: pytest benchmarks/bench_kernels.py  (see benchmarks/README.md)
"""
import os
import sys

# One query's matrix-vector product is far too small to split across threads: with OpenBLAS threads
# on a busy machine it costs ~100x more. Pin numpy's BLAS to one thread, as the flat index (threads=1)
# is, so the yardstick measures arithmetic rather than thread wake-ups. Effective only if numpy is
# not imported yet; NUMPY_WAS_LOADED records when it was, and the group names then say so.
NUMPY_WAS_LOADED = "numpy" in sys.modules
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pytest_benchmark")
vidx = pytest.importorskip("vidx", reason="vidx is not built/importable")

N_VECTORS = 10_000
K = 10


@pytest.fixture(scope="module", params=(128, 768), ids=lambda d: f"{d}d")
def data(request):
    rng = np.random.default_rng(request.param)
    base = rng.standard_normal((N_VECTORS, request.param), dtype=np.float32)
    return base, rng.standard_normal(request.param, dtype=np.float32)


@pytest.fixture(scope="module", params=("l2", "ip", "cosine"))
def metric(request):
    return request.param


@pytest.fixture(scope="module")
def flat_index(data, metric):
    """Built once per (dim, metric): the benchmark is the search, not the add."""
    index = vidx.Index(data[0].shape[1], metric=metric, kind="flat", threads=1)
    index.add(data[0])
    return index


def numpy_searcher(base, metric):
    """The fastest plain-numpy top-k search we know; per-vector work is precomputed, as an index would."""
    if metric == "cosine":
        base = base / np.linalg.norm(base, axis=1, keepdims=True)
    sq_norms = np.einsum("ij,ij->i", base, base)

    def search(query):
        if metric == "l2":
            scores = sq_norms - 2.0 * (base @ query)  # |x-q|^2 minus |q|^2, which does not change the order
        else:
            scores = -(base @ query)                  # cosine: query norm does not change the order
        top = np.argpartition(scores, K)[:K]
        return top[np.argsort(scores[top])]

    return search


def _group(base, metric):
    blas = ", numpy BLAS threads not pinned" if NUMPY_WAS_LOADED else ""
    return f"flat: 1 query x {N_VECTORS} x {base.shape[1]}d, {metric}{blas}"


def test_vidx_flat_one_query(benchmark, data, metric, flat_index):
    base, query = data
    benchmark.group = _group(base, metric)
    _, ids = benchmark(flat_index.search, query, k=K)
    # A fast kernel that computes the wrong thing is no result: the nearest vector must agree.
    assert ids[0, 0] == numpy_searcher(base, metric)(query)[0]


def test_numpy_one_query(benchmark, data, metric):
    base, query = data
    benchmark.group = _group(base, metric)
    benchmark(numpy_searcher(base, metric), query)


# ---- compressed codes: the float16, LVQ and binary kernels, seen through the same flat scan ----
@pytest.fixture(scope="module", params=("f16", "lvq8", "lvq4x8", "binary"))
def quant_index(request):
    """768d, l2: one flat index per codec, built once."""
    rng = np.random.default_rng(768)
    base = rng.standard_normal((N_VECTORS, 768), dtype=np.float32)
    index = vidx.Index(768, metric="l2", kind="flat", threads=1, quant=request.param)
    index.add(base)
    return request.param, index, rng.standard_normal(768, dtype=np.float32)


def test_vidx_flat_codec_one_query(benchmark, quant_index):
    quant, index, query = quant_index
    benchmark.group = f"flat codec: 1 query x {N_VECTORS} x 768d, l2"
    _, ids = benchmark(index.search, query, k=K)
    assert ids.shape == (1, K) and (ids[0] >= 0).all()
