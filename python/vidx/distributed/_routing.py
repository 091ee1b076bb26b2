"""Which shard a row goes to: a hash of its id (the default) or a key the user gives."""
from __future__ import annotations

import numpy as np

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix64(ids):
    """splitmix64's finaliser: consecutive ids land on shards evenly and independently."""
    z = ids.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z & _MASK64


def shard_of_ids(ids, shards):
    """The shard each id hashes to (int64 array); the same id always lands on the same shard."""
    ids = np.asarray(ids, dtype=np.int64)
    return (_mix64(ids) % np.uint64(shards)).astype(np.int64)


def check_shard_key(key, n, shards):
    """A user shard key: one integer in [0, shards) per row."""
    key = np.asarray(key)
    if key.ndim != 1 or len(key) != n:
        raise ValueError(f"shard_key must hold one shard number per row ({n}), got shape {key.shape}")
    if not np.issubdtype(key.dtype, np.integer):
        raise TypeError(f"shard_key must be integers, got dtype {key.dtype}")
    if n and (key.min() < 0 or key.max() >= shards):
        bad = key[(key < 0) | (key >= shards)][0]
        raise ValueError(f"shard_key {int(bad)} is outside [0, {shards})")
    return key.astype(np.int64, copy=False)


def split_by_shard(shard_numbers, shards):
    """Row positions per shard, in input order: a list of `shards` int64 arrays."""
    order = np.argsort(shard_numbers, kind="stable")
    bounds = np.searchsorted(shard_numbers[order], np.arange(shards + 1))
    return [order[bounds[s]:bounds[s + 1]] for s in range(shards)]
