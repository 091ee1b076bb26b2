"""vidx on NVIDIA GPUs, and k-means.

    import vidx
    vidx.cuda_available()                       # False where there is no usable GPU (never raises)
    idx = vidx.Index(128, "l2", kind="flat", device="cuda")   # an ordinary vidx.Index
    idx.add(X)
    D, I = idx.search(Q, k=10)                  # exact, like the CPU flat index
    idx.save("exact.vidx")                      # a flat index file; vidx.load reads it on the CPU,
    idx = vidx.Index._wrap(vidx.gpu.load_flat_index("exact.vidx"))   # or back onto a GPU
    r = vidx.kmeans(X, 256, device="cuda")      # r.centroids, r.assignment, r.inertia, r.iterations

The CUDA path is optional: a vidx built without it (no CUDA compiler at build time) imports and
works on the CPU, and cuda_available() says why the GPU cannot be used. CUDA failures raise
RuntimeError (no device, a kernel that failed) or MemoryError (device memory exhausted), with
the failing CUDA call named in the message.
"""
from __future__ import annotations

import numbers
import os as _os

import numpy as np

from . import _codecs, _core

__all__ = ["cuda_available", "cuda_status", "device_info", "kmeans", "KMeansResult", "make_flat_index", "load_flat_index"]

_METRICS = ("l2", "ip", "cosine")
_INITS = ("auto", "kmeans++", "random")


# ---- device discovery -------------------------------------------------------------------------

def cuda_status():
    """(available, reason): whether a CUDA GPU is usable and, if not, why (if so, which one)."""
    probe = getattr(_core, "_cuda_available", None)
    if probe is None:
        return False, "this build of vidx._core has no CUDA bindings"
    try:
        ok, why = probe()
    except Exception as e:  # pragma: no cover - the probe itself does not raise
        return False, f"the CUDA probe failed: {e}"
    return bool(ok), str(why)


def cuda_available():
    """True when vidx was built with CUDA and a GPU it can run on is present. Never raises."""
    return cuda_status()[0]


def _require_cuda():
    ok, why = cuda_status()
    if not ok:
        raise RuntimeError(f"CUDA is not available: {why}")


def _parse_device(device, allow_cpu):
    """'cpu' -> None; 'cuda' / 'cuda:N' / N -> N."""
    if isinstance(device, bool):
        raise TypeError(f"device must be a string or an int, got {type(device).__name__}")
    if isinstance(device, numbers.Integral):
        if device < 0:
            raise ValueError(f"device must be a non-negative GPU index, got {device}")
        return int(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string or an int, got {type(device).__name__}")
    name = device.strip().lower()
    if name == "cpu":
        if not allow_cpu:
            raise ValueError("this object runs on a CUDA device: use device='cuda' or 'cuda:N'")
        return None
    if name in ("cuda", "gpu"):
        return 0
    if name.startswith("cuda:") and name[5:].isdigit():
        return int(name[5:])
    raise ValueError(f"unknown device {device!r} (expected 'cpu', 'cuda' or 'cuda:N')")


def device_info(device="cuda"):
    """Properties of a CUDA device: name, compute capability, multiprocessors, clocks, memory."""
    _require_cuda()
    return _core._cuda_device_info(_parse_device(device, allow_cpu=False))


# ---- argument checks ----------------------------------------------------------------------------

def _int(name, value, minimum, maximum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def _choice(name, value, choices):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r} (expected one of {', '.join(map(repr, choices))})")
    return value


def _points(X):
    """X as a C-contiguous float32 (n, d) array with finite values."""
    if X is None:
        raise TypeError("X must be a 2-d array of points, got None")
    try:
        arr = np.asarray(X)
    except Exception as e:
        raise TypeError(f"X must be an array of numbers: {e}") from None
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"X must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"X must be a 2-d array (n, dim), got {arr.ndim} dimension(s)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"X is empty (shape {arr.shape})")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow shows up as inf just below
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"X holds a non-finite value at row {bad[0]}, column {bad[1]} (after conversion to float32)")
    return arr


# ---- k-means ------------------------------------------------------------------------------------

class KMeansResult:
    """What kmeans() returns.

    centroids: float32 (k, d); assignment: int64 (n,), the nearest centroid of each point;
    inertia: sum of squared distances of the points to their centroid; iterations: Lloyd
    updates performed (fewer than iters when the assignment stopped changing).
    """

    __slots__ = ("centroids", "assignment", "inertia", "iterations")

    def __init__(self, centroids, assignment, inertia, iterations):
        self.centroids = centroids
        self.assignment = assignment
        self.inertia = float(inertia)
        self.iterations = int(iterations)

    def __iter__(self):  # C, A, inertia, iterations = vidx.kmeans(...)
        return iter((self.centroids, self.assignment, self.inertia, self.iterations))

    def __repr__(self):
        k, d = self.centroids.shape
        return (f"KMeansResult(k={k}, dim={d}, n={self.assignment.shape[0]}, inertia={self.inertia:.6g}, "
                f"iterations={self.iterations})")


def kmeans(X, k, iters=25, seed=0, device="cpu", *, init="auto", threads=0):
    """k-means (Lloyd) clustering of the rows of X.

    Args:
        X: (n, d) numeric array-like (converted to float32).
        k: number of clusters, 1 <= k <= n.
        iters: most Lloyd updates (0: the initial centroids and their assignment).
        seed: seed of the initialisation; the result is deterministic for a seed (on the CPU
            whatever the thread count; on a GPU for a given GPU model).
        device: "cpu", or "cuda" / "cuda:N" (same algorithm, assignment and update on the GPU;
            the points must fit in GPU memory).
        init: "kmeans++" (on a sample of max(8192, 32 k) points), "random" (k distinct points),
            or "auto" (k-means++ unless k * sample * d > 2^33).
        threads: CPU threads (0 = all cores); the GPU version uses them for the initialisation.

    Returns a KMeansResult (centroids, assignment, inertia, iterations). Empty clusters are
    given the point farthest from its centroid in the largest cluster (where the points hold
    fewer than k distinct values, that point goes back to its twin's cluster: some clusters
    stay empty, and the updates run all `iters`). Points of any scale
    float32 holds cluster alike: those whose largest value lies outside [2^-20, 2^20] are
    clustered multiplied by a power of two, and the centroids and inertia scaled back (exact,
    but for values so much smaller than the largest that the product is below float32's
    smallest: those read 0, as they added nothing to a float32 distance either).
    """
    X = _points(X)
    n = X.shape[0]
    k = _int("k", k, 1)
    if k > n:
        raise ValueError(f"k = {k} is larger than the number of points ({n})")
    iters = _int("iters", iters, 0, 2 ** 31 - 1)
    seed = _int("seed", seed, 0, 2 ** 64 - 1)
    threads = _int("threads", threads, 0, 4096)  # as an index's threads
    if init == "k-means++":  # the usual spelling (scikit-learn's)
        init = "kmeans++"
    _choice("init", init, _INITS)
    dev = _parse_device(device, allow_cpu=True)
    if dev is not None:
        _require_cuda()
    dev_name = "cpu" if dev is None else f"cuda:{dev}"
    X, exponent = _scaled_to_unit(X)
    centroids, assignment, inertia, iterations = _core._kmeans(X, k, iters, seed, dev_name, init, threads)
    if exponent:
        centroids = np.ldexp(centroids, -exponent).astype(np.float32, copy=False)
        inertia = float(np.ldexp(float(inertia), -2 * exponent))
    return KMeansResult(centroids, assignment, inertia, iterations)


def _scaled_to_unit(X):
    """(X times 2^e, e): e = 0 where the largest |value| lies in [2^-20, 2^20], else the power of
    two that brings it to [1, 2). Squared distances are summed in float32: at 1e19 they overflowed
    (inertia inf) and at 1e-30 they underflowed to 0 (every point in one cluster)."""
    largest = float(np.abs(X).max())
    if largest == 0.0 or 2.0 ** -20 <= largest <= 2.0 ** 20:
        return X, 0
    exponent = -int(np.frexp(largest)[1]) + 1
    return np.ldexp(X, exponent).astype(np.float32, copy=False), exponent


# ---- exact search on the GPU ------------------------------------------------------------------------

def make_flat_index(dim, metric="l2", *, device="cuda", quant="none", chunk_rows=None, max_device_rows=None,
                    exact=True, **options):
    """The exact flat index on an NVIDIA GPU, as the vidx._core.Index that vidx.Index wraps:
    vidx.Index(dim, metric, kind="flat", device="cuda", ...) calls this. The index has the
    protocol of every vidx index (add, search, save, len, memory_usage, memory_breakdown).

    Args:
        dim: vector dimension (at most 16384).
        metric: "l2", "ip" or "cosine", as for vidx.Index.
        device: "cuda", "cuda:N" or N.
        quant: "none" (float32 on the device) or "f16" (float16: half the memory; distances are
            exact for the float16-rounded vectors, values beyond +-65504 are refused).
        chunk_rows: rows per device block / streamed chunk (default: about 1 GiB of vectors).
        max_device_rows: most rows kept in GPU memory (default: as many as fit, leaving
            headroom); the rest stay in host memory and are streamed through the GPU in chunks,
            copies overlapping the search of the previous chunk.
        exact: float32 storage only. True (default) computes the distance tiles with three TF32
            tensor-core products (float32 accuracy); False with one (faster). Either way the
            best candidates are re-ranked with exact float32 arithmetic.
        options: vidx.Index's other arguments (threads, seed, rerank, keep_vectors, M,
            ef_construction, ef_search). Those that cannot apply to an exact GPU search (a seed,
            rerank, keep_vectors, graph parameters) raise ValueError unless left at their defaults.

    search() takes k <= 1024. save() writes an ordinary flat index file that vidx.load reads on
    the CPU. memory_breakdown(): "codes" (vector blocks in GPU memory), "streamed_codes" (blocks
    kept in host memory), "scratch" (GPU search buffers), "ids", "other". Raises RuntimeError
    when CUDA is not available (the reason from cuda_status()), after checking the arguments.
    """
    dim = _int("dim", dim, 1, 16384)
    _choice("metric", metric, _METRICS)
    _codecs.check_quant(quant)
    placement = _placement(device, chunk_rows, max_device_rows, exact)
    return _core._make_cuda_flat(dim, metric, dict(options, quant=quant), **placement)


def load_flat_index(path, device="cuda", *, chunk_rows=None, max_device_rows=None, exact=True):
    """A flat index saved with save() (on the CPU or a GPU; quant "none" or "f16") loaded onto a
    GPU, as the vidx._core.Index that vidx.load(path, device="cuda") wraps. The file is verified
    first; other kinds and codecs raise ValueError. Device arguments as for make_flat_index."""
    placement = _placement(device, chunk_rows, max_device_rows, exact)
    return _core._load_cuda_flat(_os.fspath(path), **placement)


def _placement(device, chunk_rows, max_device_rows, exact):
    """The device arguments, checked, as _core takes them."""
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"exact must be a bool, got {type(exact).__name__}")
    return {"device": _parse_device(device, allow_cpu=False),
            "chunk_rows": 0 if chunk_rows is None else _int("chunk_rows", chunk_rows, 1, 2 ** 31 - 1),
            "max_device_rows": 0 if max_device_rows is None else _int("max_device_rows", max_device_rows, 1),
            "exact": bool(exact)}
