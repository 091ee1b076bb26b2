"""Exact merges of per-shard answers: every shard holds disjoint ids, so the global top-k of a
query is the top-k of the union of the shards' top-k lists (and a range result is their union)."""
from __future__ import annotations

import numpy as np


def merge_topk(parts, nq, k):
    """parts: (query_rows, D, I) per shard, D/I of shape (len(query_rows), k_s); query_rows None
    means every query. D is float32, or float64 from a shard whose float32 distances could not
    rank (Index._search_for_merge): the merge ranks by the wider, and returns float32. Returns
    (D, I) of shape (nq, k), nearest first, -1/+inf padding; ties keep shard order (stable), so
    the merge is deterministic."""
    wide = np.float64 if any(np.asarray(D).dtype == np.float64 for _, D, _ in parts) else np.float32
    D_all = np.full((nq, 0), np.inf, dtype=wide)
    I_all = np.full((nq, 0), -1, dtype=np.int64)
    blocks_D, blocks_I = [D_all], [I_all]
    for rows, D, I in parts:
        if rows is None:
            blocks_D.append(np.asarray(D, dtype=wide))
            blocks_I.append(np.asarray(I, dtype=np.int64))
            continue
        full_D = np.full((nq, D.shape[1]), np.inf, dtype=wide)
        full_I = np.full((nq, D.shape[1]), -1, dtype=np.int64)
        full_D[rows], full_I[rows] = D, I
        blocks_D.append(full_D)
        blocks_I.append(full_I)
    D_all = np.concatenate(blocks_D, axis=1)
    I_all = np.concatenate(blocks_I, axis=1)
    if D_all.shape[1] < k:  # fewer candidates than k in all: pad as a single index would
        pad = k - D_all.shape[1]
        D_all = np.concatenate([D_all, np.full((nq, pad), np.inf, wide)], axis=1)
        I_all = np.concatenate([I_all, np.full((nq, pad), -1, np.int64)], axis=1)
    order = np.argsort(D_all, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(D_all, order, 1).astype(np.float32, copy=False), np.take_along_axis(I_all, order, 1)


def merge_ranges(parts, nq):
    """parts: (query_rows, lims, D, I) per shard in faiss CSR form, D float32 or float64 (as
    merge_topk). Returns one CSR (lims, D, I) over all nq queries, each query's results sorted
    by distance, D float32."""
    queries, dists, ids = [], [], []
    for rows, lims, D, I in parts:
        lims = np.asarray(lims, dtype=np.int64)
        local_q = np.repeat(np.arange(len(lims) - 1), np.diff(lims))
        queries.append(local_q if rows is None else np.asarray(rows, dtype=np.int64)[local_q])
        D = np.asarray(D)
        dists.append(D if D.dtype == np.float64 else D.astype(np.float32, copy=False))
        ids.append(np.asarray(I, dtype=np.int64))
    q = np.concatenate(queries) if queries else np.zeros(0, np.int64)
    d = np.concatenate(dists) if dists else np.zeros(0, np.float32)
    i = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    order = np.lexsort((i, d, q))  # by query, then distance, then id
    lims = np.zeros(nq + 1, dtype=np.int64)
    np.cumsum(np.bincount(q, minlength=nq), out=lims[1:])
    return lims, d[order].astype(np.float32, copy=False), i[order]
