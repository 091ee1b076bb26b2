"""How wide each HNSW shard searches, so that N hash-routed shards find what one index finds.

A hash-routed shard holds a random 1/N of the rows, and of a query's global top-k it holds k/N on
average. Walking every shard with the caller's full ef does N times the work of one index and
finds more (+0.05 recall@10 at ef 16 with 4 shards on glove6b-50). Giving each shard ef / N, the
same total work, finds clearly less (-0.14 there): a shard's beam must still navigate its graph,
however few of the answers the shard holds. Measured with benchmarks/shard_ef_sweep.py (glove6b-50
200k and fashion-mnist 60k, 2 and 4 shards, ef 16..256; benchmarks/results/distributed.md), a beam
of about ef / sqrt(N) per shard matches one index: the shards together walk ef * N**0.52 beam
slots (the exponent fitted on those grids; 0.5 misses by 0.006 on glove at ef 16, 4 shards),
spread as evenly as integers allow, so the total is not rounded N times. A shard returns at most
as many results as its beam holds."""
from __future__ import annotations

from vidx import _check_choice

MODES = ("auto", "split", "full")
TOTAL_BEAM_EXPONENT = 0.52


def resolve_mode(mode, rows_hashed):
    """"auto" is "split" when ids are hashed to shards (every shard holds a random part) and
    "full" otherwise: with centroid or key routing a query's neighbours may all sit in one
    shard, which then needs the whole beam."""
    _check_choice("ef_per_shard", mode, MODES)
    if mode == "auto":
        return "split" if rows_hashed else "full"
    return mode


def shard_search_widths(ef, k, fan_out, shards):
    """[(k_shard, ef_shard)] for shards 0..shards-1 under the "split" rule: ef the beam one index
    would walk, k the results wanted, fan_out the shards each query visits."""
    if fan_out <= 1:
        return [(k, ef)] * shards
    ef = max(ef, k)  # one index never walks a beam narrower than k
    total = max(fan_out, round(ef * fan_out ** TOTAL_BEAM_EXPONENT))
    base, extra = divmod(total, fan_out)
    widths = [base + (s % fan_out < extra) for s in range(shards)]
    return [(min(k, w), w) for w in widths]
