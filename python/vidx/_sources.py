"""What Index.add accepts, handed to C++ without copies where possible: arrays and numpy
memmaps are read in place, .fvecs/.bvecs/.npy paths are opened and streamed by C++, and HDF5
(which only h5py reads) is a thin adapter: a contiguous dataset becomes a byte range C++
reads itself, any other dataset is read whole into an array first."""
from __future__ import annotations

import os
import sys

import numpy as np

_IN_PLACE = {np.dtype(t): n for t, n in (("<f4", "float32"), ("<f8", "float64"), ("<f2", "float16"),
                                         ("u1", "uint8"), ("i1", "int8"))}


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
                self._bar = self._tqdm(total=total, desc=f"vidx {phase}", unit="", leave=True, file=sys.stderr)
        if self._bar is not None:
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()
        elif done >= total:
            print(f"vidx {phase}: {done}/{total}", file=sys.stderr)

    def close(self):
        if self._bar is not None:
            self._bar.close()
        self._bar = None


# An HNSW add of this many rows takes long enough (seconds to minutes) to deserve a bar by default.
_LONG_HNSW_ADD_ROWS = 100_000


def _rows_of(X):
    """How many rows X holds, where that is known without reading it (None for a path)."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2:
        return int(shape[0])
    if isinstance(X, (list, tuple)):
        return len(X)
    return None


def _progress_callback(progress, kind, rows):
    """The callable an add or rebuild reports to (None: no reports), from add()'s progress argument."""
    if progress is None:  # bars by default only on a terminal, and only for adds that take a while
        long_add = kind == "spann" or (kind == "hnsw" and (rows is None or rows >= _LONG_HNSW_ADD_ROWS))
        progress = long_add and sys.stderr is not None and sys.stderr.isatty()
    if progress is True:
        return _Progress()
    if progress is False:
        return None
    if callable(progress):
        return progress
    raise TypeError("progress must be None, a bool or a callable(phase, done, total)")


def _two_d_datasets(f):
    import h5py
    found = []
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) and obj.ndim == 2 else None)
    return found


def _pick_hdf5_dataset(f, dataset, path):
    if dataset is not None:
        if dataset not in f:
            raise ValueError(f"{path} has no dataset {dataset!r} (2-d datasets: {_two_d_datasets(f)})")
        return f[dataset]
    if "train" in f:
        return f["train"]
    found = _two_d_datasets(f)
    if len(found) != 1:
        raise ValueError(f"{path}: name the dataset to index with dataset= (2-d datasets: {found})")
    return f[found[0]]


def _add_hdf5(impl, ds, path, ids, cb):
    import h5py
    if not isinstance(ds, h5py.Dataset):  # a group (or the file, or a named type) holds no rows
        kind = "group" if isinstance(ds, h5py.Group) else type(ds).__name__
        raise ValueError(f"{path}: {ds.name!r} is an HDF5 {kind}, not a dataset "
                         f"(2-d datasets in the file: {_two_d_datasets(ds.file)})")
    if ds.ndim != 2:
        raise ValueError(f"{path}: dataset {ds.name} is {ds.ndim}-d, expected (n, dim)")
    if ds.shape[1] != impl.dim:
        raise ValueError(f"{path}: dataset {ds.name} has dimension {ds.shape[1]}, the index has {impl.dim}")
    if ds.shape[0] == 0:
        raise ValueError(f"{path}: dataset {ds.name} holds no rows")
    offset = ds.id.get_offset() if ds.chunks is None and ds.compression is None else None
    dtype = np.dtype(ds.dtype)
    if offset is not None and dtype in _IN_PLACE and ds.shape[0] > 0:
        return impl.add_region(path, int(offset), ds.shape[0], impl.dim * dtype.itemsize, _IN_PLACE[dtype], ids, cb)
    return impl.add(np.asarray(ds), ids, cb)  # chunked or compressed: read whole, then built


def _is_hdf5_path(path):
    return os.path.splitext(path)[1].lower() in (".hdf5", ".h5")


def _check_dataset_name(X, dataset):
    """dataset= picks one dataset inside an HDF5 file named by path. Anywhere else it would be
    silently ignored, so the caller could index other rows than meant: refused instead."""
    if dataset is None:
        return
    if not isinstance(dataset, str):
        h5py_dataset = type(dataset).__module__.startswith("h5py") and type(dataset).__name__ == "Dataset"
        hint = " (to index an h5py Dataset, pass it as X, without dataset=)" if h5py_dataset else ""
        raise TypeError(f"dataset must be a str naming a dataset in the HDF5 file, "
                        f"got {type(dataset).__name__}{hint}")
    if isinstance(X, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(X))
        if not _is_hdf5_path(path):
            raise ValueError(f"dataset={dataset!r} applies only to HDF5 files (.hdf5, .h5), not {path}")
    elif type(X).__module__.startswith("h5py"):
        raise ValueError(f"dataset={dataset!r} applies only to an HDF5 file path; X is already the h5py "
                         f"object {X.name!r} of {X.file.filename} (pass the h5py Dataset as X, "
                         f"without dataset=, or the file's path with dataset=)")
    else:
        raise ValueError(f"dataset={dataset!r} applies only to HDF5 files; X is a {type(X).__name__}, not a path")


def add_any(impl, X, ids, progress, dataset):
    _check_dataset_name(X, dataset)
    cb = _progress_callback(progress, impl.kind, _rows_of(X))
    try:
        if isinstance(X, (str, bytes, os.PathLike)):
            path = os.fsdecode(os.fspath(X))
            if _is_hdf5_path(path):
                if not os.path.exists(path):
                    raise FileNotFoundError(f"no such file: {path}")
                import h5py
                try:
                    f = h5py.File(path, "r")
                except OSError as e:  # h5py's message does not name the file
                    raise OSError(f"cannot read {path} as an HDF5 file: {e}") from None
                with f:
                    return _add_hdf5(impl, _pick_hdf5_dataset(f, dataset, path), path, ids, cb)
            return impl.add(path, ids, cb)
        if type(X).__module__.startswith("h5py"):
            return _add_hdf5(impl, X, X.file.filename, ids, cb)
        # Shared memmaps ('r', 'r+', 'w+') can drop the pages read; private ('c') cannot.
        release = isinstance(X, np.memmap) and getattr(X, "mode", "c") in ("r", "r+", "w+")
        return impl.add(X, ids, cb, release)
    finally:
        if isinstance(cb, _Progress):
            cb.close()
