"""Issue 10 acceptance, concurrency: search QPS while a writer adds and removes, and no removed id
in any result of a search that started after its remove() returned.

    PYTHONPATH=/tmp/lb python benchmarks/live_concurrency.py --n 100000 --seconds 60 --repeats 3

Data: glove6b-50-angular, ``--n`` rows drawn at random form the index (ids 0..n-1); rows outside
it are the pool of new vectors; queries are the test set, cycled. HNSW M=16, efC=200, ef=--ef.
Each search thread calls search() with ``--batch`` queries per call (1: one query per call),
index.threads = 1 (so add() runs on the writer's own thread). Per repeat, phases in this order:
  read-only      --searchers threads search for --readonly-seconds
  add+remove     the same, plus one writer thread looping: remove --write-batch random live ids
                 (recording when remove() returned), then add --write-batch vectors: half of them
                 ids removed earlier coming back with their vectors, half new ids from the pool
  third-searcher (control, optional) the writer thread searching batches of --write-batch queries
                 instead of writing: the share of 2 cores that any third busy thread takes
  add-only       the same, the writer only adding (ids removed earlier first, then new pool rows);
                 afterwards as many random ids are removed, outside the timed phase, so every
                 repeat starts from the same size
QPS ratio = phase QPS / the read-only QPS of the same repeat. Correctness, checked after each
phase from the logs: a result holding id x, from a search that started after a remove(x) returned
and ended before x's next add() was called, is a violation; so is any id never added. At the end
the index's ids() must equal the writer's own record of the live set, and recall@10 at --ef of the
churned index is compared with a fresh build of the same final set.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from collections import defaultdict

import numpy as np

import vidx
from live_common import exact_top, load_rows, machine_line, recall_at


class Searchers:
    """``count`` threads searching until stopped; every call's start/end time and ids are logged."""

    def __init__(self, idx, test, k, ef, batch, count):
        self.idx, self.test, self.k, self.ef, self.batch = idx, test, k, ef, batch
        self.stop = threading.Event()
        self.logs = [[] for _ in range(count)]
        self.errors = []
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(count)]

    def _run(self, which):
        log, nq, b = self.logs[which], len(self.test), self.batch
        pos = (which * 997) % nq
        clock, search = time.perf_counter, self.idx.search
        try:
            while not self.stop.is_set():
                q = self.test[pos:pos + b] if pos + b <= nq else self.test[:b]
                pos = (pos + b) % nq
                t0 = clock()
                _, ids = search(q, k=self.k, ef=self.ef)
                log.append((t0, clock(), ids))
        except Exception as err:  # reported, never swallowed: a crash of the run is the finding
            self.errors.append(repr(err))

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join()

    def queries_done(self):
        return sum(len(log) for log in self.logs) * self.batch


class LiveIds:
    """The ids in the index, for drawing random ones in O(batch) (the writer must not spend the
    GIL on copying 100k ids per batch while the searchers run): an array plus each id's place."""

    def __init__(self, n, capacity):
        self.ids = np.empty(capacity, dtype=np.int64)
        self.ids[:n] = np.arange(n)
        self.place = np.full(capacity, -1, dtype=np.int64)
        self.place[:n] = np.arange(n)
        self.count = n

    def add(self, ids):
        for i in ids.tolist():
            self.ids[self.count] = i
            self.place[i] = self.count
            self.count += 1

    def discard(self, ids):
        for i in ids.tolist():
            p, last = self.place[i], self.ids[self.count - 1]
            self.ids[p], self.place[last] = last, p
            self.place[i] = -1
            self.count -= 1

    def draw(self, rng, k):
        return self.ids[rng.choice(self.count, k, replace=False)].copy()

    def array(self):
        return np.sort(self.ids[:self.count])


class Writer:
    """One writer thread per phase, its record kept across phases: ``live`` (ids in the index; an
    id is its row of ``vectors``), ``removed`` (ids out of the index, oldest first, which may come
    back with their vectors), and per id the intervals from a remove() returning to the next add()
    being called, during which no search that starts and ends inside may return it."""

    def __init__(self, idx, vectors, n, batch, seed):
        self.idx, self.vectors, self.batch = idx, vectors, batch
        self.live = LiveIds(n, len(vectors))
        self.removed = []
        self.pool_next = n                    # next never-used row of `vectors`
        self.rng = np.random.default_rng(seed)
        self.removed_at = {}                  # id -> time its last remove() returned
        self.intervals = defaultdict(list)    # id -> [(remove_returned, next_add_called)]

    def add(self, ids):
        called = time.perf_counter()
        for i in ids.tolist():
            if i in self.removed_at:
                self.intervals[i].append((self.removed_at.pop(i), called))
        self.idx.add(self.vectors[ids], ids=ids)
        self.live.add(ids)
        self.ops["added"] += len(ids)

    def remove(self, ids):
        self.idx.remove(ids)
        returned = time.perf_counter()
        for i in ids.tolist():
            self.removed_at[i] = returned
        self.live.discard(ids)
        self.removed.extend(ids.tolist())
        self.ops["removed"] += len(ids)

    def step(self, mode):
        """add+remove: remove a batch of random live ids, then add a batch, half ids removed
        earlier (coming back with their vectors), half new pool rows. add-only: add a batch,
        removed ids first. Returning ids fill in when the pool of new rows runs dry."""
        b, reserve = self.batch, 0
        if mode == "third-searcher":  # control: a third thread as busy as a writer, never writing
            self.idx.search(self.vectors[self.live.draw(self.rng, b)], k=10, ef=64)
            return
        if mode != "add-only":
            self.remove(self.live.draw(self.rng, b))
            reserve = b  # never re-add what this very batch removed
        returnable = max(0, len(self.removed) - reserve)
        fresh = min(b - min(b if mode == "add-only" else b // 2, returnable), len(self.vectors) - self.pool_next)
        back = min(b - fresh, returnable)
        ids = np.concatenate([np.array(self.removed[:back], dtype=np.int64),
                              np.arange(self.pool_next, self.pool_next + fresh, dtype=np.int64)])
        del self.removed[:back]
        self.pool_next += fresh
        if len(ids):
            self.add(ids)

    def start(self, mode):
        self.ops = {"removed": 0, "added": 0, "batches": 0}
        self.errors = []
        self.stop = threading.Event()

        def loop():
            try:
                while not self.stop.is_set():
                    self.step(mode)
                    self.ops["batches"] += 1
            except Exception as err:  # reported, never swallowed
                self.errors.append(repr(err))
        self.thread = threading.Thread(target=loop)
        self.thread.start()

    def join(self):
        self.stop.set()
        self.thread.join()

    def all_intervals(self):
        """Every closed interval, plus (remove returned, forever) for ids removed now."""
        out = {i: list(v) for i, v in self.intervals.items()}
        for i, t in self.removed_at.items():
            out.setdefault(i, []).append((t, float("inf")))
        return out


def violations(logs, intervals, ever_added):
    """Results breaking 'no removed id after remove() returned' (the search started after it
    returned and ended before the id's next add() was called), and ids never added."""
    entries = [e for log in logs for e in log]
    if not entries:
        return [], 0
    starts = np.array([e[0] for e in entries])
    ends = np.array([e[1] for e in entries])
    ids = np.stack([e[2] for e in entries])                 # (calls, batch, k)
    unknown = int(np.count_nonzero(ids >= ever_added))
    watched = np.zeros(max(ever_added, 1), dtype=bool)
    watched[[i for i in intervals if i < ever_added]] = True
    hit = (ids >= 0) & (ids < ever_added)
    hit[hit] = watched[ids[hit]]
    bad = []
    for call, query, slot in zip(*np.nonzero(hit)):
        i = int(ids[call, query, slot])
        for gone, back in intervals[i]:
            if starts[call] > gone and ends[call] < back:
                bad.append((i, float(starts[call]), gone, back))
    return bad, unknown


def run_phase(idx, test, args, seconds, writer=None, mode=None):
    """Searches for ``seconds`` (with the writer in ``mode`` alongside when given): (searchers, elapsed s)."""
    searchers = Searchers(idx, test, 10, args.ef, args.batch, args.searchers)
    t = time.perf_counter()
    searchers.start()
    if writer:
        writer.start(mode)
    time.sleep(seconds)
    if writer:
        writer.join()
    searchers.join()
    return searchers, time.perf_counter() - t


def check(searchers, writer):
    bad, unknown = violations(searchers.logs, writer.all_intervals(), writer.pool_next)
    if bad:
        print("  first violations (id, search start, remove returned, re-add called):", bad[:5], flush=True)
    lat = np.array([t1 - t0 for log in searchers.logs for t0, t1, _ in log]) * 1e3
    return {"latency_ms_p50": round(float(np.percentile(lat, 50)), 3), "latency_ms_p99": round(float(np.percentile(lat, 99)), 3),
            "searches": sum(map(len, searchers.logs)), "violations": len(bad), "unknown_ids": unknown,
            "ids_match": bool(np.array_equal(np.sort(writer.idx.ids()), writer.live.array())),
            "size": len(writer.idx)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="glove6b-50-angular")
    ap.add_argument("--n", type=int, default=100_000, help="rows in the index at the start")
    ap.add_argument("--pool", type=int, default=200_000, help="rows available as new vectors")
    ap.add_argument("--nq", type=int, default=10_000)
    ap.add_argument("--ef", type=int, default=64)
    ap.add_argument("--batch", type=int, default=1, help="queries per search() call")
    ap.add_argument("--searchers", type=int, default=2)
    ap.add_argument("--write-batch", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60, help="length of each phase with a writer")
    ap.add_argument("--readonly-seconds", type=float, default=20)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--modes", default="add+remove,add-only")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    modes = args.modes.split(",")

    print(machine_line(), flush=True)
    vectors, test, metric, note = load_rows(args.dataset, args.n + args.pool, args.nq, seed=11)
    # the first n rows of a seeded shuffle are the index, the rest the pool of new vectors
    vectors = vectors[np.random.default_rng(12).permutation(len(vectors))]
    vmetric = vidx.datasets.VIDX_METRIC[metric]
    print(note, f"| index {args.n} rows, pool {args.pool}; HNSW M=16 efC=200 ef={args.ef}, "
          f"{args.searchers} search threads x {args.batch} queries/call, writer batch {args.write_batch}", flush=True)
    idx = vidx.Index(vectors.shape[1], metric=vmetric, M=16, ef_construction=200, threads=2, seed=1)
    t = time.perf_counter()
    idx.add(vectors[:args.n], ids=np.arange(args.n, dtype=np.int64))
    print(f"build {time.perf_counter() - t:.1f} s", flush=True)
    idx.threads = 1

    writer = Writer(idx, vectors, args.n, args.write_batch, seed=5)
    rows = []
    for rep in range(args.repeats):
        s, secs = run_phase(idx, test, args, args.readonly_seconds)
        row = {"repeat": rep, "readonly_qps": s.queries_done() / secs, "readonly_errors": s.errors,
               "readonly_check": check(s, writer)}
        print(f"repeat {rep} read-only: {row['readonly_qps']:.0f} QPS, {row['readonly_check']}", flush=True)
        for mode in modes:
            s, secs = run_phase(idx, test, args, args.seconds, writer, mode)
            r = {"qps": s.queries_done() / secs, "qps_ratio": s.queries_done() / secs / row["readonly_qps"],
                 "writer_ids_per_s": (writer.ops["added"] + writer.ops["removed"]) / secs,
                 "writer_batches_per_s": writer.ops["batches"] / secs, **writer.ops,
                 "errors": s.errors + writer.errors, **check(s, writer)}
            row[mode] = r
            print(f"repeat {rep} {mode}: {r['qps']:.0f} QPS = {r['qps_ratio']:.3f} x read-only; writer "
                  f"{r['writer_ids_per_s']:.0f} ids/s (+{r['added']} -{r['removed']}); {r['searches']} search calls checked, "
                  f"{r['violations']} violations, {r['unknown_ids']} unknown ids, errors {r['errors']}, "
                  f"ids() matches: {r['ids_match']}, size {r['size']}", flush=True)
            if mode == "add-only" and writer.ops["added"]:  # back to the starting size, outside the timed phase
                writer.remove(writer.live.draw(writer.rng, writer.ops["added"]))
        rows.append(row)

    # quality after the churn: the churned index vs a fresh build of its final set
    final = writer.live.array()
    truth = exact_top(vectors, final, test[:2000], metric)
    _, found = idx.search(test[:2000], k=10, ef=args.ef)
    churned = recall_at(found, truth, vectors, test[:2000], metric)
    fresh = vidx.Index(vectors.shape[1], metric=vmetric, M=16, ef_construction=200, threads=2, seed=1)
    fresh.add(vectors[final], ids=final)
    _, found = fresh.search(test[:2000], k=10, ef=args.ef)
    fresh_recall = recall_at(found, truth, vectors, test[:2000], metric)
    print(f"after churn: {len(final)} rows, recall@10 at ef {args.ef}: churned {churned:.4f}, fresh build {fresh_recall:.4f}", flush=True)

    summary = {"readonly_qps": float(np.median([r["readonly_qps"] for r in rows])),
               "readonly_latency_ms_p50": float(np.median([r["readonly_check"]["latency_ms_p50"] for r in rows])),
               "readonly_latency_ms_p99": float(np.median([r["readonly_check"]["latency_ms_p99"] for r in rows])),
               "readonly_violations": sum(r["readonly_check"]["violations"] for r in rows)}
    for mode in modes:
        summary[mode] = {key: float(np.median([r[mode][key] for r in rows]))
                         for key in ("qps", "qps_ratio", "writer_ids_per_s", "latency_ms_p50", "latency_ms_p99")}
        summary[mode]["violations"] = sum(r[mode]["violations"] for r in rows)
        summary[mode]["unknown_ids"] = sum(r[mode]["unknown_ids"] for r in rows)
        summary[mode]["errors"] = sum(len(r[mode]["errors"]) for r in rows)
        summary[mode]["ids_match"] = all(r[mode]["ids_match"] for r in rows)
    summary["churned_recall"], summary["fresh_recall"] = churned, fresh_recall
    print("summary (medians over repeats):", json.dumps(summary, indent=1), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "data": note, "machine": machine_line(), "repeats": rows, "summary": summary},
                      f, indent=1, default=str)


if __name__ == "__main__":
    main()
