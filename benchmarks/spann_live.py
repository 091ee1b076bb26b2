"""SPANN as a living index (issue 10 acceptance): build on 80% of the rows, add the other 20%
(in batches), remove a random 20%, then compare with a fresh build of the final set: recall@10
at the same nprobe and mean single-query latency, in the same run, medians of alternated reps.

    python benchmarks/spann_live.py --dataset glove6b-50-angular --queries 1000 --reps 3

Ground truth is the exact top 10 of the final set (float64 re-scored, vidx.datasets.exact_knn).
Latency: one search() call per query on one thread (index.threads = 1), mean over the queries;
the living and fresh indexes are measured in turn, rep after rep, and the median rep reported.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import vidx
from vidx import datasets


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth)]))


def mean_latency_ms(index, queries: np.ndarray, nprobe: int) -> float:
    t = time.perf_counter()
    for q in queries:
        index.search(q, 10, nprobe=nprobe)
    return (time.perf_counter() - t) / len(queries) * 1e3


def timed(label: str, f, log: dict):
    t = time.perf_counter()
    out = f()
    log[label] = round(time.perf_counter() - t, 2)
    print(f"{label}: {log[label]} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="glove6b-50-angular")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--nprobe", default="8,16,32,64")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=20000, help="rows per add/remove call")
    ap.add_argument("--posting-limit", type=int, default=0, help="both indexes' posting_limit (0: automatic)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    nprobes = [int(v) for v in args.nprobe.split(",")]

    ds = datasets.load(args.dataset, download=False)
    x, metric = ds.train, ds.vidx_metric
    n = len(x)
    rng = np.random.default_rng(0)
    order = rng.permutation(n)
    first, later = order[: int(0.8 * n)], order[int(0.8 * n):]
    removed = rng.choice(n, int(0.2 * n), replace=False)
    final = np.setdiff1d(np.arange(n), removed)
    queries = ds.test[datasets.spread_rows(len(ds.test), args.queries)]
    print(f"{args.dataset}: build {len(first)}, add {len(later)}, remove {len(removed)}, final {len(final)}", flush=True)
    truth_local, _ = datasets.exact_knn(x[final], queries, ds.metric, k=10)
    truth = final[truth_local]

    work = Path(args.workdir or tempfile.mkdtemp(prefix="spann_live_"))
    work.mkdir(parents=True, exist_ok=True)
    log: dict = {"dataset": args.dataset, "rows": n, "queries": len(queries)}
    opts = {"posting_limit": args.posting_limit} if args.posting_limit else {}
    log["posting_limit"] = args.posting_limit
    living = vidx.Index(ds.dim, metric, kind="spann", path=work / "living.post", **opts)
    timed("build_80pct_s", lambda: living.add(x[first], ids=first, progress=False), log)
    def add_rest():
        for b in range(0, len(later), args.batch):
            living.add(x[later[b:b + args.batch]], ids=later[b:b + args.batch])
    timed("add_20pct_s", add_rest, log)
    def remove_some():
        for b in range(0, len(removed), args.batch):
            living.remove(removed[b:b + args.batch])
    timed("remove_20pct_s", remove_some, log)
    log["living_stats"] = {k: v for k, v in living.stats().items() if k.startswith("live") or k in ("heads", "stale_ids")}
    log["living_heads"] = living.heads
    fresh = vidx.Index(ds.dim, metric, kind="spann", path=work / "fresh.post", **opts)
    timed("fresh_build_s", lambda: fresh.add(x[final], ids=final, progress=False), log)
    log["fresh_heads"] = fresh.heads
    assert len(living) == len(fresh) == len(final)
    for idx in (living, fresh):
        idx.threads = 1
    log["posting_bytes"] = {"living": (work / "living.post").stat().st_size, "fresh": (work / "fresh.post").stat().st_size}

    rows = []
    for nprobe in nprobes:
        rec = {name: recall_at(idx.search(queries, 10, nprobe=nprobe)[1], truth)
               for name, idx in (("living", living), ("fresh", fresh))}
        lat = {"living": [], "fresh": []}
        for _ in range(args.reps):
            for name, idx in (("living", living), ("fresh", fresh)):
                lat[name].append(mean_latency_ms(idx, queries, nprobe))
        med = {k: statistics.median(v) for k, v in lat.items()}
        row = {"nprobe": nprobe, "recall_living": rec["living"], "recall_fresh": rec["fresh"],
               "latency_ms_living": med["living"], "latency_ms_fresh": med["fresh"],
               "latency_ratio": med["living"] / med["fresh"], "latency_reps": lat}
        rows.append(row)
        print(f"nprobe {nprobe}: recall living {rec['living']:.4f} fresh {rec['fresh']:.4f} "
              f"(diff {rec['fresh'] - rec['living']:+.4f}); mean latency living {med['living']:.3f} ms "
              f"fresh {med['fresh']:.3f} ms ratio {row['latency_ratio']:.2f}", flush=True)
    report(log, rows, args.json)


def report(log: dict, rows: list, json_path: str | None) -> None:
    """Prints the run's summary (all but the rows, printed as they came) and writes it all as JSON."""
    log["rows"] = rows
    print(json.dumps({k: v for k, v in log.items() if k != "rows"}, indent=1))
    if json_path:
        Path(json_path).write_text(json.dumps(log, indent=1))


if __name__ == "__main__":
    main()
