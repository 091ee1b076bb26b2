"""Interleaved head-to-head of vidx HNSW against its peers, for figures quoted as ratios.

On a shared, noisy machine a sweep of one library after another lets load drift bias the
comparison. Here every measurement alternates between the libraries: builds are repeated
round-robin (vidx, hnswlib, faiss, usearch, vidx, ...), and for each ef every repetition of
the single-query loop visits all libraries in turn. Medians are reported, and the ratios
are taken between medians measured in the same rounds.

    python benchmarks/head_to_head.py fashion-mnist-784-euclidean --build-rounds 3 --rounds 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

# numpy's OpenBLAS threads spin on the other core for a while after any matrix product (recall
# and ground-truth arithmetic), taking it from the single-thread loops of every library alike.
# Pin them before numpy loads; the libraries' own threads (faiss's OpenMP, vidx's pool) are set
# per call and unaffected.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from vidx import datasets  # noqa: E402
from vidx.bench import peers  # noqa: E402
from vidx.bench.arguments import beam, beam_list, count, degree  # noqa: E402
from vidx.bench.recall import recall_at_k  # noqa: E402
from vidx.bench.timing import timed_call  # noqa: E402


def parse_args(argv):
    """The arguments, with `specs` added (algorithm -> (library, variant, M)). Anything a run
    could not use is a usage error now, not a traceback after the builds."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset")
    p.add_argument("--algorithms", default="vidx,hnswlib,faiss,usearch",
                   help="comma list of NAME[:VARIANT][@M]: VARIANT picks a library's quantizer (vidx:lvq8, "
                        "faiss:sq8, glass:sq8), M that library's own M (e.g. hnswlib@32)")
    p.add_argument("--M", type=degree, default=None,
                   help="graph degree of every library without its own @M (default: 16, except for a library "
                        "that chooses its own: vidx then takes its automatic M, 24 on glove6b-50, as its "
                        "users get it; --M 16 holds vidx to 16 too)")
    p.add_argument("--ef-construction", type=beam, default=200)
    p.add_argument("--ef", type=beam_list, default="10,12,14,16,20,24,32,48,64,96,128")
    p.add_argument("--threads", type=count, default=2, help="build threads, and batch-search threads (default 2)")
    p.add_argument("--queries", type=count, default=1000, help="queries in each single-query loop")
    p.add_argument("--build-rounds", type=count, default=3)
    p.add_argument("--rounds", type=count, default=5, help="repetitions of each single-query loop")
    p.add_argument("--batch", action="store_true", help="also time all queries in one call on --threads threads")
    p.add_argument("--order", default="natural", choices=list(ORDERS),
                   help="row order given to every library: as stored, sorted by cluster, or shuffled")
    p.add_argument("--k", type=count, default=10)
    p.add_argument("--json", help="write the raw measurements here")
    args = p.parse_args(argv)
    try:
        args.specs = parse_specs(args.algorithms, args.M)
    except ValueError as err:
        p.error(str(err))
    args.parser = p
    return args


def parse_specs(text, default_M):
    """"NAME[:VARIANT][@M],..." -> {spec: (NAME, VARIANT or None, M)}, in the order given."""
    specs = {}
    for spec in (s.strip() for s in text.split(",")):
        if spec in specs:
            raise ValueError(f"algorithm {spec!r} given twice: its rows would be indistinguishable")
        specs[spec] = parse_spec(spec, default_M)
    return specs


def parse_spec(spec, default_M):
    """"NAME[:VARIANT][@M]" -> (NAME, VARIANT or None, M); @0 leaves M to a library that
    chooses its own (vidx@0: vidx's automatic M). default_M: the M of a spec without @M, or None
    for 16, and 0 (its own choice) for a library that chooses its own."""
    rest, _, m = spec.strip().partition("@")
    base, _, variant = rest.partition(":")
    if not base or (m and not m.isdigit()):
        raise ValueError(f"bad algorithm {spec!r}: expected NAME[:VARIANT][@M]")
    adapter = peers.ADAPTERS.get(base)
    if m == "0" and adapter is not None and adapter.CHOOSES_M:
        return base, variant or None, 0  # the library's own choice of M
    if not m and default_M is None:
        return base, variant or None, 0 if adapter is not None and adapter.CHOOSES_M else 16
    try:
        return base, variant or None, degree(m) if m else default_M
    except argparse.ArgumentTypeError as err:
        raise ValueError(f"bad algorithm {spec!r}: {err}") from None


def row_recall(row, key):
    """The recall a run's QPS figure `key` was measured at: a batch's own where the run scored
    it (head_to_head.py since the thirty-first session), else the single-query loop's."""
    if key == "batch_qps_median" and row.get("batch_recall") is not None:
        return row["batch_recall"]
    return row["recall"]


def qps_at_recall(points, target):
    """QPS at exactly `target` recall, linear between the two efs whose recalls straddle it.

    points: (recall, qps) per ef, in ef order. "Best QPS among the efs reaching the target"
    jumps with the ef grid (a library at 0.9497 is charged its next, slower ef); this reading
    does not. None when no ef reaches the target; the first ef's QPS when it already does (an
    underestimate: a smaller ef might have reached it too)."""
    for i, (r1, q1) in enumerate(points):
        if r1 >= target:
            if i == 0:
                return q1
            r0, q0 = points[i - 1]
            return q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    return None


def by_cluster(train):
    """Rows grouped by their nearest of 256 sample rows (all of them, for a smaller set): what a
    corpus sorted by category looks like."""
    rng = np.random.default_rng(0)
    centers = train[rng.choice(len(train), min(256, len(train)), replace=False)]
    labels = np.concatenate([((part[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)
                             for part in np.array_split(train, max(1, len(train) // 2000))])
    return np.argsort(labels, kind="stable")


ORDERS = {
    "natural": lambda train: np.arange(len(train)),
    "sorted": by_cluster,
    "shuffled": lambda train: np.random.default_rng(1).permutation(len(train)),
}


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main(argv=None):
    args = parse_args(argv)
    specs = args.specs  # name -> (base, variant, M)
    try:
        available = {a.name: a for a in peers.select(sorted({s[0] for s in specs.values()}), print)}
        names = [n for n in specs if specs[n][0] in available]
        for n in names:
            available[specs[n][0]].check_variant(specs[n][1])  # a typo fails now, not after an hour of builds
        if not names:
            raise ValueError("none of the requested algorithms is installed")
        data = datasets.load(args.dataset, download=False)
        if args.json:  # checked now: a path that cannot be written would cost every figure at the end
            folder = os.path.dirname(os.path.abspath(args.json))
            if os.path.isdir(args.json) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
                raise ValueError(f"--json {args.json}: not a file that can be written in an existing folder")
        if data.neighbors.shape[1] < args.k:
            raise ValueError(f"{data.name} has ground truth for k <= {data.neighbors.shape[1]}, not {args.k}")
    except (OSError, ValueError) as err:
        args.parser.error(str(err))
    metric = data.vidx_metric
    efs = list(args.ef)
    order = ORDERS[args.order](data.train)
    train = np.ascontiguousarray(data.train[order])  # position i holds original row order[i]
    print(f"{data.name} ({args.order} order): train {train.shape}, {args.queries} queries, metric {metric}, "
          f"efC={args.ef_construction}, threads {args.threads}; " +
          ", ".join(f"{n} M={specs[n][2]}" for n in names), flush=True)

    # Builds, round-robin; the last build of each library is kept for the searches.
    builds = {n: [] for n in names}
    memory = {}
    built = {}
    for r in range(args.build_rounds):
        for n in names:
            if n in built:
                built[n].close()
                del built[n]
            base, variant, M = specs[n]
            a = available[base](variant)
            before = rss_bytes()
            builds[n].append(a.build(train, metric, M, args.ef_construction, args.threads))
            memory[n] = a.memory_bytes() or (rss_bytes() - before)
            built[n] = a
            print(f"  build round {r + 1} {n}: {builds[n][-1]:.2f} s, {memory[n] / 2**20:.1f} MiB", flush=True)

    def original_ids(found):
        found = np.asarray(found, dtype=np.int64)
        return np.where(found >= 0, order[np.clip(found, 0, None)], -1)

    picked = datasets.spread_rows(len(data.test), args.queries)  # ordered test sets: not the first rows
    queries = data.test[picked]
    truth = data.distances[picked]
    rows = []
    for ef in efs:
        times = {n: [] for n in names}
        batch_times = {n: [] for n in names}
        recalls, batch_recalls = {}, {}
        for n in names:
            built[n].set_ef(ef)
        for _ in range(args.rounds):
            for n in names:
                a = built[n]
                seconds, ids = timed_call(lambda: [a.query_one(q, args.k) for q in queries])
                times[n].append(seconds)
                recalls[n] = recall_at_k(data.train, queries, original_ids(np.vstack(ids)), truth, data.metric, args.k)
                if args.batch:
                    # A batch is scored on its own results: a library may search a batch otherwise
                    # than single queries (glass's batch takes an ef below k as it is, its single
                    # search does not: fashion-mnist at ef 4, recall 0.79 against 0.97).
                    seconds, ids = timed_call(lambda: a.query_batch(queries, args.k, args.threads))
                    batch_times[n].append(seconds)
                    batch_recalls[n] = recall_at_k(data.train, queries, original_ids(ids), truth, data.metric, args.k)
        for n in names:
            rows.append({"algorithm": n, "ef": ef, "recall": recalls[n],
                         "qps_median": len(queries) / statistics.median(times[n]),
                         "qps_all": [len(queries) / t for t in times[n]],
                         "batch_recall": batch_recalls.get(n),
                         "batch_qps_median": len(queries) / statistics.median(batch_times[n]) if args.batch else None})
        print("  ef %4d  " % ef + "  ".join(
            f"{n} r={recalls[n]:.4f} qps={len(queries) / statistics.median(times[n]):7.0f}" +
            (f"/{len(queries) / statistics.median(batch_times[n]):.0f}" +
             (f" (batch r={batch_recalls[n]:.4f})" if abs(batch_recalls[n] - recalls[n]) > 5e-4 else "")
             if args.batch else "")
            for n in names), flush=True)

    print()
    print(f"build seconds (median of {args.build_rounds}, {args.threads} threads): " +
          ", ".join(f"{n} {statistics.median(builds[n]):.2f}" for n in names))
    print("memory MiB: " + ", ".join(f"{n} {memory[n] / 2**20:.1f}" for n in names))
    modes = [("qps_median", "recall", "single")] + ([("batch_qps_median", "batch_recall", "batch")] if args.batch else [])
    for key, recall_key, mode in modes:
        for target in (0.90, 0.95, 0.99):
            best = {}
            for n in names:
                ok = [r for r in rows if r["algorithm"] == n and r[recall_key] >= target]
                best[n] = max(ok, key=lambda r: r[key]) if ok else None
            print(f"{mode} recall>={target:.2f}: " + "  ".join(
                f"{n} " + (f"{best[n][key]:.0f} (ef {best[n]['ef']})" if best[n] else "-") for n in names))
            ref = best.get(names[0])
            if ref:
                print("    %s / peer: " % names[0] + ", ".join(
                    f"{n} {ref[key] / best[n][key]:.2f}x" for n in names[1:] if best[n]))
            at = {n: qps_at_recall([(r[recall_key], r[key]) for r in rows if r["algorithm"] == n], target)
                  for n in names}
            print(f"    interpolated at {target:.2f}: " + "  ".join(
                f"{n} " + (f"{at[n]:.0f}" if at[n] else "-") for n in names) + (
                "  (%s / peer: " % names[0] + ", ".join(
                    f"{n} {at[names[0]] / at[n]:.2f}x" for n in names[1:] if at[n]) + ")" if at[names[0]] else ""))
    if len(names) > 1:
        print("build time %s / peer: " % names[0] + ", ".join(
            f"{n} {statistics.median(builds[names[0]]) / statistics.median(builds[n]):.2f}x" for n in names[1:]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dataset": data.name, "args": {k: v for k, v in vars(args).items() if k not in ("parser", "specs")},
                       "builds": builds, "memory": memory, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
