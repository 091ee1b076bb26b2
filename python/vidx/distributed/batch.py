"""Batch jobs over Ray Datasets: build a ShardedIndex from one, and search one of queries with
map_batches (each batch fans out to the shard actors from a Ray task, so the driver does not
carry the queries or the results)."""
from __future__ import annotations

import numpy as np
import ray

from ._merge import merge_topk
from .sharded_index import ShardedIndex


def build_from_dataset(ds, column="vector", *, id_column=None, dim=None, metric="l2", shards=2,
                       kind="hnsw", **options):
    """A ShardedIndex holding the vectors of Ray Dataset `ds` (`column`: one vector per row,
    ids from `id_column` or 0, 1, ...). dim: read from the first row when None. options: as
    ShardedIndex (routing, wal, batch_size, index options...)."""
    if dim is None:
        first = ds.take(1)
        if not first:
            raise ValueError("the dataset is empty")
        if column not in first[0]:
            raise ValueError(f"the dataset has no column {column!r} (columns: {', '.join(first[0])})")
        dim = len(first[0][column])
    index = ShardedIndex(dim, metric=metric, shards=shards, kind=kind, **options)
    index.add(ds, column=column, id_column=id_column)
    return index


def search_dataset(index, ds, column="vector", k=10, *, batch_size=1024, ids_column="neighbors",
                   distances_column="distances", **params):
    """Lazily adds the k nearest neighbours of each row's vector to Ray Dataset `ds`: columns
    `ids_column` (int64, k per row) and `distances_column` (float32). params (ef, nprobe,
    ef_per_shard...) go to the shards as in index.search. The batches run as Ray tasks calling
    the shard actors directly; a shard that dies fails its batches (index.recover() restarts
    it; then run the job again)."""
    if not isinstance(index, ShardedIndex):
        raise TypeError(f"index must be a ShardedIndex, got {type(index).__name__}")
    ef_per_shard = params.pop("ef_per_shard", None)
    asks = index.shard_requests(k, {n: v for n, v in params.items() if v is not None}, ef_per_shard)
    fn_kwargs = {"actors": index.shard_actors, "column": column, "k": k, "asks": asks,
                 "ids_column": ids_column, "distances_column": distances_column}
    return ds.map_batches(_search_batch, batch_size=batch_size, batch_format="numpy", fn_kwargs=fn_kwargs)


def _search_batch(batch, *, actors, column, k, asks, ids_column, distances_column):
    Q = batch[column]
    if Q.dtype == object:
        Q = np.stack([np.asarray(row, dtype=np.float32) for row in Q])
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    shared = ray.put(Q)
    results = ray.get([actor.search.remote(shared, k_shard, None, params)
                       for actor, (k_shard, params) in zip(actors, asks)])
    D, I = merge_topk([(None, D, I) for D, I in results], len(Q), k)
    return {**batch, ids_column: I, distances_column: D}
