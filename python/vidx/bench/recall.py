"""Recall@k scored the ann-benchmarks way: by distance, not by id.

A returned id counts when its true distance is within the k-th true distance times (1 + EPSILON)
(plus a tiny absolute slack for distances near zero).
Scoring by distance keeps ties fair: when several train vectors sit at the same distance, any of
them is a correct answer, while an id match would reward whichever one the ground truth listed.
The true distance of each returned id is recomputed here in float64, never taken from the library,
so a library's own rounding or distance convention cannot inflate its score.
"""
from __future__ import annotations

import numpy as np

from ..datasets import true_distances

#: Relative slack on the k-th distance, absorbing float32 rounding in the stored ground truth.
EPSILON = 1e-3
#: Absolute slack for distances near zero (duplicates), where a relative one vanishes and float64
#: 1 - cos of two equal vectors can come out a hair above a stored 0 or a tiny negative value.
ABS_EPSILON = 1e-6


def recall_at_k(train, queries, ids, gt_distances, metric: str, k: int, block: int = 256) -> float:
    """Mean fraction of the first k returned ids (q, >=k) that are true k-nearest neighbours.

    Row i of `ids` answers `queries[i]`, whose ground truth is row i of `gt_distances`; both may
    hold more rows than `ids` (results for a prefix of the queries).
    """
    ids = np.asarray(ids)[:, :k]
    if gt_distances.shape[1] < k:
        raise ValueError(f"ground truth holds {gt_distances.shape[1]} neighbours, fewer than k={k}")
    hits = 0
    # Blocks keep the (block, k, dim) float64 gather small even for 10k queries of 1000 dimensions.
    for start in range(0, len(ids), block):
        stop = min(start + block, len(ids))  # never past ids: the other arrays may be longer
        dist = true_distances(train, queries[start:stop], ids[start:stop], metric)
        limit = gt_distances[start:stop, k - 1].astype(np.float64) * (1 + EPSILON) + ABS_EPSILON
        hits += int(np.count_nonzero(dist <= limit[:, None]))  # -1 padding has distance +inf
    return hits / (len(ids) * k)
