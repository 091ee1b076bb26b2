"""SPANN: a memory-disk index for collections larger than memory (Chen et al., NeurIPS 2021).

Only the "head" vectors (real data vectors chosen by hierarchical balanced k-means, about
``head_ratio`` of the collection) and an HNSW graph over them stay in memory; every vector is
stored, replicated into up to ``replicas`` nearby lists, in one posting file on disk that is
read with O_DIRECT at search time.

    from vidx.spann import SpannIndex, load_spann
    idx = SpannIndex(128, "l2", path="/data/big.postings", memory_budget=4 << 30)
    idx.add("/data/big.fvecs")                 # or an array, a numpy memmap, .bvecs/.npy/.hdf5
    D, I = idx.search(Q, k=10, nprobe=32)
    idx.save("/data/big.spann")                # small; the posting file stays where it is
    idx = load_spann("/data/big.spann")

The index is static: one ``add`` builds it (streaming through the data with at most
``memory_budget`` bytes of its own) and writes the posting file.
"""
from __future__ import annotations

import math
import os
import struct
import sys

import numpy as np

from . import _core

__all__ = ["SpannIndex", "load_spann", "is_spann_file", "DEFAULTS"]

_METRICS = ("l2", "ip", "cosine")
_CODECS = ("f32", "f16", "lvq8")

# Construction options and their defaults (see SpannIndex).
DEFAULTS = dict(
    head_ratio=None, codec="f32", replicas=8, candidates=64, rng_factor=1.0, posting_limit=0, branch=16, kmeans_iters=10,
    head_M=16, head_ef_construction=200, head_ef_search=64, nprobe=32, eps=10.0, direct_io=True, io_threads=16,
    threads=0, seed=0, memory_budget=0, sample=0,
)
_INT_LIMITS = dict(replicas=(1, 64), candidates=(1, 4096), posting_limit=(0, 1 << 31), branch=(2, 1024),
                   kmeans_iters=(1, 1000), head_M=(2, 2048), head_ef_construction=(1, None),
                   head_ef_search=(1, None), nprobe=(1, None), io_threads=(0, 1024), threads=(0, None),
                   seed=(0, (1 << 64) - 1), memory_budget=(0, None), sample=(0, None))

_SUPPORTED = {np.dtype(t) for t in ("<f4", "<f8", "<f2", "u1", "i1")}


def _as_int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def _as_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(value)


def _check_options(kw):
    unknown = set(kw) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(unknown))}")
    opts = dict(DEFAULTS)
    opts.update(kw)
    for name, (lo, hi) in _INT_LIMITS.items():
        opts[name] = _as_int(name, opts[name], lo, hi)
    if opts["head_ratio"] is None:
        opts["head_ratio"] = 0.0  # automatic: see SpannIndex
    else:
        ratio = _as_float("head_ratio", opts["head_ratio"])
        if not (0 < ratio <= 1):
            raise ValueError(f"head_ratio must be in (0, 1] (or None: automatic), got {ratio}")
        opts["head_ratio"] = ratio
    if not isinstance(opts["codec"], str):
        raise TypeError(f"codec must be a string, got {type(opts['codec']).__name__}")
    if opts["codec"] not in _CODECS:
        raise ValueError(f"unknown posting codec {opts['codec']!r} (expected one of 'f32', 'f16', 'lvq8')")
    rng = _as_float("rng_factor", opts["rng_factor"])
    if not (rng > 0 and math.isfinite(rng)):
        raise ValueError(f"rng_factor must be a positive number, got {rng}")
    opts["rng_factor"] = rng
    eps = _as_float("eps", opts["eps"])
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0 (inf turns pruning off), got {eps}")
    opts["eps"] = eps
    if not isinstance(opts["direct_io"], bool):
        raise TypeError(f"direct_io must be a bool, got {type(opts['direct_io']).__name__}")
    return opts


class _Progress:
    """One progress bar per build phase (tqdm when installed, else a line on stderr)."""

    def __init__(self):
        self._phase = None
        self._bar = None
        try:
            from tqdm.auto import tqdm
            self._tqdm = tqdm
        except ImportError:
            self._tqdm = None

    def __call__(self, phase, done, total):
        if phase != self._phase:
            self.close()
            self._phase = phase
            if self._tqdm is not None:
                self._bar = self._tqdm(total=total, desc=f"spann {phase}", unit="", leave=True, file=sys.stderr)
        if self._bar is not None:
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()
        elif done >= total:
            print(f"spann {phase}: {done}/{total}", file=sys.stderr)

    def close(self):
        if self._bar is not None:
            self._bar.close()
        self._bar = None


def _progress_callback(progress):
    if progress is None:
        progress = sys.stderr is not None and sys.stderr.isatty()
    if progress is True:
        return _Progress()
    if progress is False:
        return None
    if callable(progress):
        return progress
    raise TypeError("progress must be None, a bool or a callable(phase, done, total)")


def _vecs_layout(path, dim, elem_size):
    size = os.path.getsize(path)
    if size < 4:
        raise ValueError(f"{path} holds no vectors")
    with open(path, "rb") as f:
        (d,) = struct.unpack("<i", f.read(4))
    if d != dim:
        raise ValueError(f"{path} holds vectors of dimension {d}, the index has {dim}")
    stride = 4 + d * elem_size
    if size % stride:
        raise ValueError(f"{path} is truncated or not a .{'fvecs' if elem_size == 4 else 'bvecs'} file "
                         f"({size} bytes is not a multiple of {stride})")
    return size // stride, stride


def _pick_hdf5_dataset(f, dataset, path):
    import h5py
    if dataset is not None:
        if dataset not in f:
            raise ValueError(f"{path} has no dataset {dataset!r}")
        return f[dataset]
    if "train" in f:
        return f["train"]
    found = []
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) and obj.ndim == 2 else None)
    if len(found) != 1:
        raise ValueError(f"{path}: name the dataset to index with dataset= (2-d datasets: {found})")
    return f[found[0]]


class SpannIndex:
    """A SPANN index whose posting lists live in the file ``path``.

    Args:
        dim, metric: vector dimension; "l2" (squared Euclidean), "ip" (1 - <q, x>) or
            "cosine" (1 - cos; vectors normalised when added).
        path: the posting file the build writes (replaced atomically).
        head_ratio: heads as a fraction of the vectors (memory grows with it). None (default):
            5%, lowered for short vectors so that the resident part (heads, their graph, the
            list directory) stays within about 6.5% of the collection's float32 bytes
            (``params["effective_head_ratio"]`` says what was used).
        codec: how posting entries store a vector: "f32" (default; exact distances), "f16"
            or "lvq8" (LVQ 8-bit, about 4x smaller lists, so about 4x fewer bytes read per
            query, with approximate distances; its parameters are saved with the index).
        replicas: most posting lists one vector goes into (boundary replication, RNG rule).
        candidates: nearest heads considered for those replicas.
        rng_factor: a head h is rejected when rng_factor * d(h, accepted) < d(x, h).
        posting_limit: most entries per list (0: three times the mean length).
        branch, kmeans_iters: fan-out and iterations of the balanced k-means tree.
        head_M, head_ef_construction, head_ef_search: the HNSW graph over the heads.
        nprobe, eps: search defaults: lists probed; skip head i when d_i > (1 + eps) d_1.
        direct_io: read postings with O_DIRECT (on filesystems that refuse it, such as tmpfs,
            reads are buffered and ``direct_io`` reads False).
        io_threads: threads issuing the reads of a query at once (0: the searching thread).
        threads: build and batch-search threads (0: all cores).
        memory_budget: bytes the build may hold (0: half the physical memory). Data given as
            a file or a memmap is streamed; an in-memory array is the caller's and not counted.
        sample: rows clustered to choose the heads (0: as many as the budget allows).
        seed: seed of every random choice.
    """

    kind = "spann"

    def __init__(self, dim, metric="l2", path=None, **options):
        dim = _as_int("dim", dim, 1, 1 << 20)
        if not isinstance(metric, str):
            raise TypeError(f"metric must be a string, got {type(metric).__name__}")
        if metric not in _METRICS:
            raise ValueError(f"unknown metric {metric!r} (expected one of 'l2', 'ip', 'cosine')")
        if path is None:
            raise ValueError("a SPANN index needs path=: the file its posting lists are written to")
        path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError("path must be a str or os.PathLike")
        if os.path.isdir(path):
            raise ValueError(f"path {path!r} is a directory; give the posting file's name")
        opts = _check_options(options)
        self._impl = _core.SpannIndex(dim, metric, path, opts)

    @classmethod
    def _wrap(cls, impl):
        obj = cls.__new__(cls)
        obj._impl = impl
        return obj

    # ---- building ----

    def add(self, X, ids=None, *, progress=None, dataset=None):
        """Builds the index from all vectors at once (a SPANN index is static).

        X: an (n, dim) array-like, a numpy memmap (streamed, pages released as read), or a
        path to an .fvecs, .bvecs, .npy or .hdf5/.h5 file (streamed from disk; for HDF5 the
        dataset ``dataset``, default "train" or the only 2-d dataset). ids: n int64 user ids
        (default 0..n-1). progress: None (bars when stderr is a terminal), True, False or a
        callable(phase, done, total)."""
        if self._impl.built:
            raise ValueError("this SPANN index is already built: a SPANN index is built by one add() of all "
                             "its vectors")
        cb = _progress_callback(progress)
        try:
            self._add(X, ids, cb, dataset)
        finally:
            if isinstance(cb, _Progress):
                cb.close()

    def _add(self, X, ids, cb, dataset):
        dim = self.dim
        if isinstance(X, (str, bytes, os.PathLike)):
            path = os.fsdecode(os.fspath(X))
            if not os.path.exists(path):
                raise FileNotFoundError(f"no such file: {path}")
            ext = os.path.splitext(path)[1].lower()
            if ext == ".fvecs":
                rows, stride = _vecs_layout(path, dim, 4)
                return self._impl.add_file(path, 0, rows, stride, 4, "float32", ids, cb)
            if ext == ".bvecs":
                rows, stride = _vecs_layout(path, dim, 1)
                return self._impl.add_file(path, 0, rows, stride, 4, "uint8", ids, cb)
            if ext == ".npy":
                arr = np.load(path, mmap_mode="r")
                if arr.ndim != 2:
                    raise ValueError(f"{path} holds a {arr.ndim}-d array, expected (n, dim)")
                if arr.shape[1] != dim:
                    raise ValueError(f"{path} holds vectors of dimension {arr.shape[1]}, the index has {dim}")
                if arr.dtype in _SUPPORTED and arr.flags.c_contiguous:
                    return self._impl.add_file(path, int(arr.offset), arr.shape[0], dim * arr.itemsize, 0,
                                               _dtype_name(arr.dtype), ids, cb)
                return self._add_callback(arr, ids, cb)
            if ext in (".hdf5", ".h5"):
                import h5py
                with h5py.File(path, "r") as f:
                    ds = _pick_hdf5_dataset(f, dataset, path)
                    return self._add_h5(ds, path, ids, cb)
            raise ValueError(f"cannot read {path}: expected an .fvecs, .bvecs, .npy, .hdf5 or .h5 file, "
                             "an array or a numpy memmap")
        if type(X).__module__.startswith("h5py"):
            return self._add_h5(X, X.file.filename, ids, cb)
        if isinstance(X, np.memmap):
            if X.ndim == 1:
                X = X.reshape(1, -1)
            if X.dtype in _SUPPORTED and X.ndim == 2 and X.strides[1] == X.itemsize and X.strides[0] > 0:
                # Shared mappings ('r', 'r+', 'w+') can drop the pages read; private ('c') cannot.
                release = getattr(X, "mode", "c") in ("r", "r+", "w+", "readonly", "readwrite", "write")
                return self._impl.add_array(X, ids, release, cb)
            return self._add_callback(X, ids, cb)
        if isinstance(X, np.ndarray) and X.dtype.kind not in "fiu":
            raise TypeError(f"vectors must hold real numbers, got dtype {X.dtype}")
        arr = np.asarray(X)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"vectors must hold real numbers, got dtype {arr.dtype}")
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2:
            raise ValueError(f"vectors must be a 1-d vector or a 2-d array of vectors, got {arr.ndim} dimensions")
        if arr.shape[0] == 0:
            raise ValueError("vectors is empty")
        if arr.shape[1] != dim:
            raise ValueError(f"vectors have dimension {arr.shape[1]}, the index has {dim}")
        if arr.dtype in _SUPPORTED and arr.strides[1] == arr.itemsize and arr.strides[0] > 0:
            return self._impl.add_array(arr, ids, False, cb)
        return self._add_callback(arr, ids, cb)

    def _add_h5(self, ds, path, ids, cb):
        if ds.ndim != 2:
            raise ValueError(f"{path}: dataset {ds.name} is {ds.ndim}-d, expected (n, dim)")
        if ds.shape[1] != self.dim:
            raise ValueError(f"{path}: dataset {ds.name} has dimension {ds.shape[1]}, the index has {self.dim}")
        offset = ds.id.get_offset() if ds.chunks is None and ds.compression is None else None
        if offset is not None and np.dtype(ds.dtype) in _SUPPORTED:
            return self._impl.add_file(path, int(offset), ds.shape[0], self.dim * ds.dtype.itemsize, 0,
                                       _dtype_name(ds.dtype), ids, cb)
        return self._add_callback(ds, ids, cb)

    def _add_callback(self, src, ids, cb):
        if src.shape[0] == 0:
            raise ValueError("vectors is empty")
        if src.shape[1] != self.dim:
            raise ValueError(f"vectors have dimension {src.shape[1]}, the index has {self.dim}")

        def read(begin, count):
            return np.ascontiguousarray(src[begin:begin + count], dtype=np.float32)

        return self._impl.add_callback(read, int(src.shape[0]), ids, cb)

    # ---- searching ----

    def search(self, Q, k=10, nprobe=None, eps=None):
        """k nearest neighbours of each query: (D, I), float32 and int64 (q, k), nearest first;
        -1 / +inf where fewer than k were found. nprobe: posting lists read per query (default
        the index's); eps: skip head i when d(q, h_i) > (1 + eps) d(q, h_1) (inf: never)."""
        return self._impl.search(Q, k, nprobe, eps)

    # ---- files ----

    def save(self, path):
        """Writes the in-memory part (heads, their graph, options, the posting file's path and
        identity) to one file, atomically. The posting file stays where it is."""
        self._impl.save(os.fspath(path))

    # ---- facts ----

    def memory_usage(self):
        """Bytes the index holds in memory (heads, graph, list directory, search buffers); the
        page cache is not counted."""
        return self._impl.memory_usage()

    def __len__(self):
        return len(self._impl)

    @property
    def dim(self):
        return self._impl.dim

    @property
    def metric(self):
        return self._impl.metric

    @property
    def heads(self):
        return self._impl.heads

    @property
    def direct_io(self):
        """Whether posting reads bypass the page cache (O_DIRECT)."""
        return self._impl.direct_io

    @property
    def codec(self):
        """The posting entries' codec: "f32", "f16" or "lvq8"."""
        return self._impl.codec

    @property
    def posting_path(self):
        return self._impl.posting_path

    @property
    def params(self):
        p = dict(self._impl.params)
        if p["head_ratio"] == 0:
            p["head_ratio"] = None
        return p

    def build_stats(self):
        return self._impl.build_stats()

    def io_stats(self):
        """Totals since the last reset: queries, lists and bytes read, entries scanned."""
        return self._impl.io_stats()

    def reset_io_stats(self):
        self._impl.reset_io_stats()

    def __repr__(self):
        return (f"vidx.SpannIndex(dim={self.dim}, metric={self.metric!r}, size={len(self)}, heads={self.heads}, "
                f"codec={self.codec!r}, path={self.posting_path!r})")


def _dtype_name(dt):
    return {"f": {4: "float32", 8: "float64", 2: "float16"}, "u": {1: "uint8"}, "i": {1: "int8"}}[dt.kind][dt.itemsize]


def load_spann(path, posting_path=None, direct_io=None):
    """Loads a SPANN index saved with save(). The posting file is looked for where it was
    built, then beside ``path``; ``posting_path`` overrides. direct_io: None keeps the saved
    setting."""
    if direct_io is not None and not isinstance(direct_io, bool):
        raise TypeError("direct_io must be None or a bool")
    flag = -1 if direct_io is None else int(direct_io)
    return SpannIndex._wrap(_core.load_spann(os.fspath(path), "" if posting_path is None else os.fspath(posting_path),
                                             flag))


def is_spann_file(path):
    """True when ``path`` is a vidx index file of kind "spann" (reads only its first bytes)."""
    try:
        with open(os.fspath(path), "rb") as f:
            head = f.read(32 + 255)
    except OSError:
        return False
    if len(head) < 32 or head[:8] != b"\x89VIDX\r\n\x1a":
        return False
    (k,) = struct.unpack_from("<I", head, 28)
    return head[32:32 + k] == b"spann"
