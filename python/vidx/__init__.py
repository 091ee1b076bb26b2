"""vidx: vector search with HNSW graphs, compressed vectors and SPANN.

    import vidx
    idx = vidx.Index(dim=128, metric="l2")     # kind="hnsw" by default
    idx.add(X)                                 # (n, 128) array-like
    D, I = idx.search(Q, k=10)                 # float32 (q, 10) distances, int64 (q, 10) ids

Distances: "l2" is squared Euclidean, "ip" is 1 - <q, x>, "cosine" is 1 - cos. Smaller is
closer; results are sorted nearest first; missing results are -1 with +inf.
"""
from __future__ import annotations

import os as _os

from . import _core

__version__ = "0.1.0"
__all__ = ["Index", "load", "cpu_features", "cuda_available", "kmeans", "cmake_dir", "__version__"]

_KINDS = ("hnsw", "flat", "spann")
_METRICS = ("l2", "ip", "cosine")
_QUANTS = ("none", "f16", "lvq8", "lvq4", "lvq4x4", "lvq4x8", "lvq8x8", "binary", "binary_rot", "rabitq")


def _check_choice(name, value, choices):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r} (expected one of {', '.join(map(repr, choices))})")


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np
            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise TypeError(f"{name} must be an int, got {type(value).__name__}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


class Index:
    """A vector index.

    Args:
        dim: vector dimension.
        metric: "l2" (squared Euclidean), "ip" (1 - inner product) or "cosine" (1 - cosine;
            vectors are normalised when added).
        kind: "hnsw" (graph, approximate), "flat" (exhaustive: exact with quant="none" or
            keep_vectors=True; with another quant alone, a scan of the codes re-ranked with the
            codec's precise level, as exact as the codes are) or "spann" (memory-disk hybrid:
            heads in memory, posting lists in the file `path`; other keyword options go to
            vidx.spann.SpannIndex, and search takes nprobe= and eps= instead of ef=).
        M: HNSW links per node (2*M on the bottom level).
        ef_construction: HNSW beam width while building; larger is slower and better.
        ef_search: default HNSW beam width of search() (override per call with ef=).
        seed: seed of every random choice; a build is reproducible for the same data, seed
            and row order, whatever the thread count.
        threads: worker threads of add() and batched search(); 0 means all cores, at most
            4096; OSError when the system cannot start them.
        quant: how vectors are stored: "none" (float32), "f16" (IEEE half precision, half the
            bytes; values beyond +-65504 saturate) or LVQ ("lvq8", "lvq4": one level;
            "lvq4x4", "lvq4x8", "lvq8x8": a primary level the search walks with and a residual
            level it re-ranks with); one bit per dimension, re-ranked with LVQ-8 codes kept
            beside the graph: "binary" (sign bits, Hamming distance), "binary_rot" (sign bits
            after a random rotation drawn from `seed`), "rabitq" (rotated bits plus three
            floats per vector and an asymmetric estimator with the float32 query). All
            centre by the mean of the first add(); memory_breakdown() tells the 1-bit codes
            ("codes") from the re-rank codes ("rerank_codes").
        rerank: candidates re-scored with precise distances after a compressed search
            (default 0: the whole beam, max(ef, k)); used by two-level LVQ and keep_vectors.
        keep_vectors: also keep the float32 vectors (more memory): HNSW re-ranks with them,
            flat scans them (exact results).
        device: "cpu", or "cuda" for an exact flat index on an NVIDIA GPU.
    """

    __slots__ = ("_impl",)

    def __init__(self, dim, metric="l2", kind="hnsw", M=16, ef_construction=200, ef_search=64, seed=0,
                 threads=0, quant="none", rerank=0, keep_vectors=False, device="cpu", path=None, **options):
        dim = _check_count("dim", dim, 1)
        _check_choice("metric", metric, _METRICS)
        _check_choice("kind", kind, _KINDS)
        _check_choice("device", device, ("cpu", "cuda"))
        if device == "cuda":
            if kind != "flat":
                raise ValueError("device='cuda' is available for kind='flat' only")
            from .gpu import CudaFlatIndex
            self._impl = CudaFlatIndex(dim, metric, **options)
            return
        if kind == "spann":
            # The disk index has its own build parameters (head_ratio, replicas, nprobe, ...):
            # see vidx.spann.SpannIndex. The graph parameters above do not apply to it.
            from .spann import SpannIndex
            if path is None:
                raise ValueError("kind='spann' needs path=: the posting-list file it writes")
            if quant != "none":  # quant= names the posting-entry codec, as codec= does
                if quant not in ("f16", "lvq8") or "codec" in options:
                    raise ValueError(f"kind='spann' stores posting entries as 'f32', 'f16' or 'lvq8'; got quant={quant!r}")
                options["codec"] = quant
            self._impl = SpannIndex(dim, metric, path=path, seed=_check_count("seed", seed, 0),
                                    threads=_check_count("threads", threads, 0), **options)
            return
        if path is not None:
            raise ValueError(f"path= is for kind='spann'; a {kind!r} index lives in memory (use save())")
        if options:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(options))}")
        M = _check_count("M", M, 2)
        ef_construction = _check_count("ef_construction", ef_construction, 1)
        ef_search = _check_count("ef_search", ef_search, 1)
        seed = _check_count("seed", seed, 0)
        threads = _check_count("threads", threads, 0)
        _check_choice("quant", quant, _QUANTS)
        rerank = _check_count("rerank", rerank, 0)
        if not isinstance(keep_vectors, bool):
            raise TypeError(f"keep_vectors must be a bool, got {type(keep_vectors).__name__}")
        self._impl = _core.Index(kind, dim, metric, M, ef_construction, ef_search, seed, threads, quant, rerank,
                                 keep_vectors)

    @classmethod
    def _wrap(cls, impl):
        obj = cls.__new__(cls)
        obj._impl = impl
        return obj

    def add(self, X, ids=None):
        """Adds vectors: X is (n, dim) or (dim,); ids optional user ids, integers in
        [0, 2**63 - 1] (-1 marks missing results; default: 0, 1, ... continuing after the
        largest id so far, ValueError if they would pass 2**63 - 1). Raises ValueError on
        NaN/inf, values beyond +-sqrt(3.4e38 / (4 * dim)) for "l2"/"ip" (so distances fit in
        float32), zero vectors for "cosine", wrong dimension, empty input, negative or repeated
        ids; on error the index is unchanged."""
        self._impl.add(X, ids)

    def search(self, Q, k=10, ef=None, rerank=None, **options):
        """k nearest neighbours of each query: returns (D, I), float32 and int64 arrays of shape
        (q, k), nearest first; -1 / +inf where fewer than k exist. k may exceed len(index) up
        to 65536 (ValueError beyond max(len(index), 65536)). ef: beam width for this call
        (HNSW; at least k is used, and more than len(index) is the same as len(index)).
        rerank: candidates re-scored precisely for this call (compressed indexes; None uses
        the index's rerank). Queries follow add()'s value rules (ValueError otherwise)."""
        impl = self._impl
        if not options and type(impl) is _CoreIndex:  # the common case, kept cheap
            return impl.search(Q, k, ef, rerank)
        return _search_other(impl, Q, k, ef, rerank, options)

    def save(self, path):
        """Writes the index to one file, atomically (temporary file, fsync, rename). A path
        holding a NUL byte raises ValueError."""
        self._impl.save(_os.fspath(path))

    def memory_usage(self):
        """Bytes held by the index (vectors or codes, graph, ids, search scratch)."""
        return self._impl.memory_usage()

    def memory_breakdown(self):
        """memory_usage() by part (bytes, summing to it): "codes" (what a search walks with:
        float32 or float16 vectors, LVQ primary codes, 1-bit codes), "rerank_codes" (LVQ
        residuals, the LVQ-8 codes binary indexes re-rank with), "graph" (links), "kept_vectors"
        (keep_vectors=True), "codec" (mean, rotation), "ids", "scratch", "other"."""
        parts = getattr(self._impl, "memory_breakdown", None)
        return dict(parts()) if parts else {"other": self.memory_usage()}

    def __len__(self):
        return len(self._impl)

    @property
    def dim(self):
        return self._impl.dim

    @property
    def metric(self):
        return self._impl.metric

    @property
    def kind(self):
        return self._impl.kind

    @property
    def threads(self):
        return self._impl.threads

    @threads.setter
    def threads(self, value):
        self._impl.threads = _check_count("threads", value, 0)

    @property
    def params(self):
        return self._impl.params

    def __repr__(self):
        return f"vidx.Index(dim={self.dim}, metric={self.metric!r}, kind={self.kind!r}, size={len(self)})"


_CoreIndex = _core.Index


def _search_other(impl, Q, k, ef, rerank, options):
    """search() of the indexes that are not the in-memory core: SPANN (nprobe=, eps=) and CUDA."""
    if getattr(impl, "kind", None) == "spann":
        if ef is not None or rerank is not None:
            raise TypeError("ef and rerank do not apply to kind='spann'; use nprobe= and eps=")
        return impl.search(Q, k, **options)
    if options:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(options))}")
    return impl.search(Q, k, ef, rerank)


def load(path, **options):
    """Loads an index saved with Index.save, after verifying the whole file. For a SPANN index,
    options go to vidx.spann.load_spann (posting_path=, direct_io=)."""
    path = _os.fspath(path)
    from .spann import is_spann_file, load_spann
    if is_spann_file(path):
        return Index._wrap(load_spann(path, **options))
    if options:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(options))}")
    return Index._wrap(_core.load(path))


def cpu_features():
    """What the CPU supports and which SIMD level vidx chose (VIDX_SIMD lowers it)."""
    return _core.cpu_features()


def cmake_dir():
    """Folder to pass as vidx_DIR to CMake's find_package(vidx) to link the C++ library."""
    return _os.path.join(_os.path.dirname(__file__), "cpp", "lib", "cmake", "vidx")


def cuda_available():
    """True when vidx was built with CUDA and a GPU is usable."""
    try:
        from .gpu import cuda_available as _available
    except ImportError:
        return False
    return _available()


def kmeans(X, k, *args, **kwargs):
    """k-means clustering (CPU, or device="cuda"); see vidx.gpu.kmeans."""
    from .gpu import kmeans as _kmeans
    return _kmeans(X, k, *args, **kwargs)
