"""Input checks and conversions of ShardedIndex (ids, options, Ray Datasets, Ray errors)."""
from __future__ import annotations

import os

import numpy as np

import vidx

INT64_MAX = np.iinfo(np.int64).max


def validate_options(dim, metric, kind, options):
    """The options are checked once here (an empty index is cheap) rather than in every actor;
    returns the settings in force (defaults filled in)."""
    if keeps_files(kind):  # the check must not create the kind's files
        options = {**options, "path": os.path.join(os.devnull, "unused")}
    return vidx.Index(dim, metric=metric, kind=kind, **options).params


def keeps_files(kind):
    """Whether an index of this kind keeps files of its own at its `path` option (SPANN's
    posting lists), which every shard then needs a path of its own for."""
    return "path" in vidx._core.option_names(kind)


def unwrap(error):
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, Exception) else error


def as_ids(ids, n=None):
    given = ids
    ids = np.asarray(ids)
    if ids.ndim == 0:
        ids = ids[None]
    if ids.ndim != 1:
        raise ValueError(f"ids must be one-dimensional, got shape {ids.shape}")
    if len(ids) and not np.issubdtype(ids.dtype, np.integer):
        _refuse_out_of_range(given if isinstance(given, (list, tuple)) else ids.tolist())
        raise TypeError(f"ids must be integers, got dtype {ids.dtype}")
    if len(ids) and ids.dtype.kind == "u":
        # the cast to int64 below would make an id of 2**63 or more negative
        _refuse_out_of_range(ids[ids > np.uint64(INT64_MAX)][:1].tolist())
    ids = ids.astype(np.int64, copy=False)
    if n is not None and len(ids) != n:
        raise ValueError(f"got {len(ids)} ids for {n} vectors")
    if len(ids) and ids.min() < 0:
        raise ValueError(f"ids must be non-negative, got {int(ids.min())}")
    return ids


def _refuse_out_of_range(values):
    """ValueError naming the first Python int in values outside [0, 2**63 - 1] (as vidx.Index
    does): numpy holds such ids as uint64, float64 or objects, whose error named only the dtype
    or, once cast to int64, a negative id the caller never gave."""
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= INT64_MAX:
            raise ValueError(f"id {v} does not fit: ids must be >= 0 and below 2**63")


def path_option(options):
    """options with their `path` (SPANN's posting file) as a str: each shard derives its own
    file name from it, and save() writes the options into the JSON manifest, which takes no
    pathlib.Path. Like vidx.Index, a path that is not a str or os.PathLike is a TypeError."""
    path = options.get("path")
    if path is None:
        return options
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return {**options, "path": path}


def check_unique(ids):
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"id {int(unique[counts > 1][0])} is repeated")


def for_metric(X, metric):
    if metric == "cosine":
        return X / np.linalg.norm(X, axis=1, keepdims=True)
    return X


def is_dataset(X):
    try:
        from ray.data import Dataset
    except ImportError:
        return False
    return isinstance(X, Dataset)


def iter_dataset(ds, column, id_column, batch_size):
    """(vectors, ids or None) per batch of a Ray Dataset."""
    for batch in ds.iter_batches(batch_size=batch_size, batch_format="numpy"):
        if column not in batch:
            raise ValueError(f"the dataset has no column {column!r} (columns: {', '.join(batch)})")
        X = batch[column]
        if X.dtype == object:  # rows of lists or arrays
            X = np.stack([np.asarray(row, dtype=np.float32) for row in X])
        yield X, None if id_column is None else batch[id_column]
