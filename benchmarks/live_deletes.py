"""Issue 10 acceptance, deletes: HNSW after removing half the rows, against fresh builds.

    PYTHONPATH=/tmp/lb python benchmarks/live_deletes.py fashion-mnist-784-euclidean
    PYTHONPATH=/tmp/lb python benchmarks/live_deletes.py glove6b-50-angular --n 200000
    ... --quant lvq8 --repeats 3 --json out.json

Per repeat (a different random 50% each time, seeded):
  fresh-all    build of every row (ids = row numbers, file order): the fresh build of scenario (a)'s final set
  (a) readd    fresh-all, remove the 50%, add the same vectors back under the same ids (reused slots)
  (b) compact  fresh-all reloaded from its saved file, remove the 50%, compact()
  fresh-half   fresh build of the surviving 50% (ids kept, file order): the reference of (b)
recall@10 at each ef (batched search, ann-benchmarks tolerance for ties) against the exact top-10
of the final set, and memory_usage() after compact vs fresh-half. Targets: |recall delta| <= 0.01
at each ef, memory within 10%. The median over repeats is reported with every repeat's value.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile

import numpy as np

import vidx
from live_common import exact_top, load_rows, machine_line, recall_at, recall_by_ef, timed


def build(train, ids, metric, args):
    """HNSW over rows ``train[ids]`` under those ids; ``metric`` is the ann-benchmarks name."""
    idx = vidx.Index(train.shape[1], metric=vidx.datasets.VIDX_METRIC[metric], M=args.M, ef_construction=args.ef_construction,
                     quant=args.quant, threads=args.threads, seed=args.seed)
    _, secs = timed(idx.add, train[ids], ids=ids)
    return idx, secs


def removal_set(n, rep):
    """The random half removed in repeat ``rep`` (seeded: the same for vidx and the peer)."""
    return np.sort(np.random.default_rng(1000 + rep).choice(n, n // 2, replace=False)).astype(np.int64)


def one_repeat(rep, train, test, metric, truth_all, fresh_path, fresh_all_recall, args, efs):
    n = len(train)
    gone = removal_set(n, rep)
    kept = np.setdiff1d(np.arange(n, dtype=np.int64), gone)
    truth_half = exact_top(train, kept, test, metric)
    row = {"repeat": rep, "removed": len(gone)}

    # (a) remove half, then add the same vectors back under their ids
    idx = vidx.load(fresh_path)
    idx.threads = args.threads
    count, row["remove_s"] = timed(idx.remove, gone)
    assert count == len(gone), (count, len(gone))
    assert len(idx) == len(kept), (len(idx), len(kept))
    row["after_remove_recall"] = recall_by_ef(idx, test, truth_half, train, metric, efs)
    _, row["readd_s"] = timed(idx.add, train[gone], ids=gone)
    assert len(idx) == n
    row["readd_recall"] = recall_by_ef(idx, test, truth_all, train, metric, efs)
    row["readd_memory"] = idx.memory_usage()
    row["readd_delta"] = {ef: round(row["readd_recall"][ef] - fresh_all_recall[ef], 4) for ef in efs}
    del idx

    # (b) remove half, compact, against a fresh build of the survivors
    idx = vidx.load(fresh_path)
    idx.threads = args.threads
    idx.remove(gone)
    row["memory_before_compact"] = idx.memory_usage()
    _, row["compact_s"] = timed(idx.compact)
    assert len(idx) == len(kept)
    assert np.array_equal(np.sort(idx.ids()), kept), "ids() after compact is not the surviving set"
    row["compact_recall"] = recall_by_ef(idx, test, truth_half, train, metric, efs)
    row["compact_memory"] = idx.memory_usage()
    row["compact_breakdown"] = idx.memory_breakdown()
    del idx
    fresh, row["fresh_half_build_s"] = build(train, kept, metric, args)
    row["fresh_half_recall"] = recall_by_ef(fresh, test, truth_half, train, metric, efs)
    row["fresh_half_memory"] = fresh.memory_usage()
    row["fresh_half_breakdown"] = fresh.memory_breakdown()
    row["compact_delta"] = {ef: round(row["compact_recall"][ef] - row["fresh_half_recall"][ef], 4) for ef in efs}
    row["compact_memory_ratio"] = round(row["compact_memory"] / row["fresh_half_memory"], 4)
    return row


def hnswlib_peer(train, test, metric, truth_all, gone, args, efs):
    """hnswlib's way, same data and removal set: mark_deleted (a tombstone: the node stays in the
    graph, skipped in results) then add_items(replace_deleted=True) reusing those slots; it has
    no compact. Recall of each state against hnswlib's own fresh builds."""
    import hnswlib
    space = {"euclidean": "l2", "angular": "cosine"}[metric]
    n = len(train)
    kept = np.setdiff1d(np.arange(n), gone)
    truth_half = exact_top(train, kept, test, metric)

    def build(ids):
        h = hnswlib.Index(space=space, dim=train.shape[1])
        h.init_index(max_elements=n, M=args.M, ef_construction=args.ef_construction, random_seed=args.seed,
                     allow_replace_deleted=True)
        h.add_items(train[ids], ids, num_threads=args.threads)
        return h

    def recall(h, truth):
        out = {}
        for ef in efs:
            h.set_ef(max(ef, 10))
            found, _ = h.knn_query(test, k=10, num_threads=args.threads)
            out[ef] = round(recall_at(found.astype(np.int64), truth, train, test, metric), 4)
        return out

    h = build(np.arange(n))
    row = {"fresh_all_recall": recall(h, truth_all)}
    for i in gone.tolist():
        h.mark_deleted(i)
    row["after_mark_deleted_recall"] = recall(h, truth_half)
    h.add_items(train[gone], gone, num_threads=args.threads, replace_deleted=True)
    row["replace_deleted_recall"] = recall(h, truth_all)
    row["fresh_half_recall"] = recall(build(kept), truth_half)
    row["readd_delta"] = {ef: round(row["replace_deleted_recall"][ef] - row["fresh_all_recall"][ef], 4) for ef in efs}
    row["tombstone_delta"] = {ef: round(row["after_mark_deleted_recall"][ef] - row["fresh_half_recall"][ef], 4) for ef in efs}
    return row


def median_table(rows, key, efs):
    return {ef: float(np.median([r[key][ef] for r in rows])) for ef in efs}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("--n", type=int, default=None, help="train rows drawn at random (default: all)")
    ap.add_argument("--nq", type=int, default=2000, help="test queries (first ones)")
    ap.add_argument("--efs", default="16,32,64,128")
    ap.add_argument("--quant", default="none")
    ap.add_argument("--M", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", default=None, help="write every figure here")
    ap.add_argument("--peer", default="", help="hnswlib: also run hnswlib's mark_deleted/replace_deleted "
                                               "on repeat 0's removal set (float32 only)")
    args = ap.parse_args()
    efs = [int(e) for e in args.efs.split(",")]

    print(machine_line(), flush=True)
    train, test, metric, note = load_rows(args.dataset, args.n, args.nq, seed=7)
    print(note, f"| HNSW M={args.M} efC={args.ef_construction} quant={args.quant} threads={args.threads}", flush=True)
    n = len(train)
    all_ids = np.arange(n, dtype=np.int64)
    truth_all = exact_top(train, all_ids, test, metric)

    fresh, build_s = build(train, all_ids, metric, args)
    fresh_all_recall = recall_by_ef(fresh, test, truth_all, train, metric, efs)
    fresh_all_memory = fresh.memory_usage()
    print(f"fresh-all: build {build_s:.1f} s, memory {fresh_all_memory / 2**20:.1f} MiB, recall {fresh_all_recall}", flush=True)
    with tempfile.TemporaryDirectory(prefix="live_deletes_") as tmp:
        fresh_path = os.path.join(tmp, "fresh.vidx")
        fresh.save(fresh_path)
        del fresh
        rows = []
        for rep in range(args.repeats):
            row = one_repeat(rep, train, test, metric, truth_all, fresh_path, fresh_all_recall, args, efs)
            rows.append(row)
            print(f"repeat {rep}: remove {row['remove_s']:.2f} s, re-add {row['readd_s']:.1f} s, compact {row['compact_s']:.2f} s, "
                  f"fresh-half build {row['fresh_half_build_s']:.1f} s", flush=True)
            for key in ("after_remove_recall", "readd_recall", "readd_delta", "compact_recall", "fresh_half_recall", "compact_delta"):
                print(f"  {key:20s} {row[key]}", flush=True)
            print(f"  memory MiB: before compact {row['memory_before_compact'] / 2**20:.2f}, after {row['compact_memory'] / 2**20:.2f}, "
                  f"fresh-half {row['fresh_half_memory'] / 2**20:.2f} (ratio {row['compact_memory_ratio']}); "
                  f"re-added {row['readd_memory'] / 2**20:.2f} vs fresh-all {fresh_all_memory / 2**20:.2f}", flush=True)

    summary = {
        "fresh_all_recall": fresh_all_recall,
        "readd_recall": median_table(rows, "readd_recall", efs),
        "readd_delta": median_table(rows, "readd_delta", efs),
        "compact_recall": median_table(rows, "compact_recall", efs),
        "fresh_half_recall": median_table(rows, "fresh_half_recall", efs),
        "compact_delta": median_table(rows, "compact_delta", efs),
        "compact_memory_ratio": float(np.median([r["compact_memory_ratio"] for r in rows])),
        "worst_readd_delta": min(min(r["readd_delta"].values()) for r in rows),
        "worst_compact_delta": min(min(r["compact_delta"].values()) for r in rows),
    }
    summary["pass_recall"] = bool(summary["worst_readd_delta"] >= -0.01 and summary["worst_compact_delta"] >= -0.01)
    summary["pass_memory"] = bool(max(abs(r["compact_memory_ratio"] - 1) for r in rows) <= 0.10)
    print("summary (medians over repeats; worst = lowest delta of any ef and repeat):", flush=True)
    for key, value in summary.items():
        print(f"  {key:20s} {value}")
    peer = None
    if args.peer == "hnswlib":
        gone = removal_set(n, 0)
        peer = hnswlib_peer(train, test, metric, truth_all, gone, args, efs)
        print("hnswlib (same removal set as repeat 0):", flush=True)
        for key, value in peer.items():
            print(f"  {key:26s} {value}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "data": note, "machine": machine_line(), "build_s": build_s,
                       "fresh_all_memory": fresh_all_memory, "repeats": rows, "summary": summary, "hnswlib": peer},
                      f, indent=1, default=str)


if __name__ == "__main__":
    main()
