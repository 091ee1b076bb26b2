"""Recall@k scored the ann-benchmarks way: by distance, not by id.

ann-benchmarks' k-nn recall counts a returned answer when its distance is at most the k-th true
distance plus 1e-3 (an absolute slack, `knn_threshold`). This scores the same, with two guards:
- the true distance of each returned id is recomputed here in float64, never taken from the
  library, so a library's own rounding or distance convention cannot inflate its score; since the
  stored k-th distance was rounded to float32, the slack also covers a few float32 steps of it
  (2^-20 of it: a hair above 1e-3 only for distances over ~1,000, e.g. fashion-mnist's);
- an id returned twice in a row counts once, so padding a short answer with a real id, or
  repeating the nearest one, earns nothing.
Scoring by distance keeps ties fair: when several train vectors sit at the same distance, any of
them is a correct answer, while an id match would reward whichever one the ground truth listed.

(Before 2026-12-06 the slack was relative, k-th distance x (1 + 1e-3): 1.5 for fashion-mnist's
k-th distance of ~1,500, so near misses counted there, and on angular sets, whose distances are
below 1, it was stricter than ann-benchmarks'.)
"""
from __future__ import annotations

import numpy as np

from ..datasets import true_distances

#: ann-benchmarks' absolute slack on the k-th true distance.
EPSILON = 1e-3
#: Relative slack for the float32 rounding of the stored k-th distance (a few float32 steps).
ROUNDING = 2.0 ** -20


def _repeats(ids: np.ndarray) -> np.ndarray:
    """True where an id already appeared earlier in its row (-1 padding aside)."""
    order = np.argsort(ids, axis=1, kind="stable")
    ranked = np.take_along_axis(ids, order, axis=1)
    repeat_ranked = np.zeros(ids.shape, dtype=bool)
    repeat_ranked[:, 1:] = (ranked[:, 1:] == ranked[:, :-1]) & (ranked[:, 1:] >= 0)
    repeat = np.empty_like(repeat_ranked)
    np.put_along_axis(repeat, order, repeat_ranked, axis=1)
    return repeat


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
        dist[_repeats(ids[start:stop])] = np.inf
        kth = gt_distances[start:stop, k - 1].astype(np.float64)
        limit = kth + EPSILON + np.abs(kth) * ROUNDING
        hits += int(np.count_nonzero(dist <= limit[:, None]))  # -1 padding has distance +inf
    return hits / (len(ids) * k)
