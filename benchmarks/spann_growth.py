"""SPANN grown from a small build: build on the first `--build-share` of the rows, add the rest
in batches (an embedding system filling its index), then compare with one fresh build of all the
rows: recall@10 at each nprobe, and what each costs (posting entries scanned a query, mean
single-query latency), so the two are compared at equal cost as well as at equal nprobe. The
grown index is then saved, loaded again and rebuilt (`rebuild()`: re-clustered from its stored
vectors into a new posting file), and the rebuilt copy is measured beside the other two.
By default an add that doubles the grown index since its last build is made by a rebuild
(`rebuild_growth`); `--rebuild-growth 0` measures the index grown by the living add alone.

    python benchmarks/spann_growth.py --dataset glove6b-50-angular --order natural --build-share 0.1

--order natural keeps the stored order (glove: most frequent words first, so later rows are rarer
words than the build saw), shuffled adds them in a seeded random order. Ground truth is the
dataset's own (the final set is the whole train set). Latency: one search() call per query on one
thread; the two indexes are measured in turn, `--reps` times, medians reported.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import vidx
from spann_live import recall_at, report, timed  # this folder's living-index benchmark
from vidx import datasets


def costs(index, queries: np.ndarray, nprobe: int) -> tuple[float, float]:
    """(mean entries scanned, mean latency in ms) of one-query calls."""
    index.reset_stats()
    t = time.perf_counter()
    for q in queries:
        index.search(q, 10, nprobe=nprobe)
    ms = (time.perf_counter() - t) / len(queries) * 1e3
    return index.stats()["entries_scanned"] / len(queries), ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="glove6b-50-angular")
    ap.add_argument("--order", choices=("natural", "shuffled"), default="natural")
    ap.add_argument("--build-share", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=20000, help="rows per add call")
    ap.add_argument("--quant", default="none", help="the posting lists' codec (SPANN's quant=)")
    ap.add_argument("--rebuild-growth", type=float, default=None,
                    help="the grown index's rebuild_growth (default: vidx's; 0: adds never rebuild it)")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--nprobe", default="4,8,16,32,64")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    nprobes = [int(v) for v in args.nprobe.split(",")]

    ds = datasets.load(args.dataset, download=False)
    x, metric, n = ds.train, ds.vidx_metric, len(ds.train)
    order = np.arange(n) if args.order == "natural" else np.random.default_rng(0).permutation(n)
    first, later = order[: int(args.build_share * n)], order[int(args.build_share * n):]
    picked = datasets.spread_rows(len(ds.test), args.queries)
    queries, truth = ds.test[picked], ds.neighbors[picked, :10]
    print(f"{args.dataset} ({args.order}): build {len(first)}, add {len(later)} in {args.batch}s", flush=True)

    work = Path(args.workdir or tempfile.mkdtemp(prefix="spann_growth_"))
    work.mkdir(parents=True, exist_ok=True)
    log: dict = {"dataset": args.dataset, "order": args.order, "quant": args.quant, "rows": n, "build_rows": len(first),
                 "queries": len(queries)}
    growth = {} if args.rebuild_growth is None else {"rebuild_growth": args.rebuild_growth}
    grown = vidx.Index(ds.dim, metric, kind="spann", path=work / "grown.post", quant=args.quant, **growth)
    timed("build_s", lambda: grown.add(x[first], ids=first, progress=False), log)
    log["heads_after_build"] = grown.heads

    def add_rest():
        for b in range(0, len(later), args.batch):
            grown.add(x[later[b:b + args.batch]], ids=later[b:b + args.batch])
    timed("adds_s", add_rest, log)
    log["grown_stats"] = {k: v for k, v in grown.stats().items() if k.startswith("live") or k == "rebuilds_on_growth"}
    log["rebuild_growth"] = grown.params["rebuild_growth"]
    log["grown_heads"] = grown.heads
    fresh = vidx.Index(ds.dim, metric, kind="spann", path=work / "fresh.post", quant=args.quant)
    timed("fresh_build_s", lambda: fresh.add(x, progress=False), log)
    log["fresh_heads"] = fresh.heads
    grown.save(work / "grown.vidx")
    rebuilt = vidx.load(work / "grown.vidx")  # a second copy: the grown one stays as it was
    log["rebuilt_path"] = timed("rebuild_s", lambda: rebuilt.rebuild(progress=False), log)
    log["rebuilt_heads"] = rebuilt.heads
    indexes = {"grown": grown, "rebuilt": rebuilt, "fresh": fresh}
    for idx in indexes.values():
        idx.threads = 1
    log["posting_bytes"] = {name: Path(idx.posting_path).stat().st_size for name, idx in indexes.items()}
    print(f"heads: grown {grown.heads} (built with {log['heads_after_build']}), rebuilt {rebuilt.heads}, "
          f"fresh {fresh.heads}", flush=True)

    rows = []
    for nprobe in nprobes:
        row = {"nprobe": nprobe}
        for name, idx in indexes.items():
            row[f"recall_{name}"] = recall_at(idx.search(queries, 10, nprobe=nprobe)[1], truth)
        lat = {name: [] for name in indexes}
        for _ in range(args.reps):
            for name, idx in indexes.items():
                entries, ms = costs(idx, queries, nprobe)
                row[f"entries_{name}"] = entries
                lat[name].append(ms)
        for name in lat:
            row[f"latency_ms_{name}"] = statistics.median(lat[name])
        rows.append(row)
        print(f"nprobe {nprobe:3d}: " + "; ".join(
            f"{name} recall {row[f'recall_{name}']:.4f} entries {row[f'entries_{name}']:.0f} "
            f"latency {row[f'latency_ms_{name}']:.3f} ms" for name in indexes), flush=True)
    report(log, rows, args.json)


if __name__ == "__main__":
    main()
