"""Filtered search, single thread, one query per call: vidx HNSW vs hnswlib (filter callable) and
faiss HNSW32 (SearchParametersHNSW(sel=IDSelectorBatch)) at matched recall of the exact
filtered top-10; plus one batch with per-query filters vs one call per query.

    python benchmarks/filters_bench.py [--dataset fashion-mnist-784-euclidean] [--queries 1000]
           [--rounds 5] [--cache /tmp/filters_bench] [--out benchmarks/results/filters.md]
           [--selectivities 0.5,0.1,0.01,0.001] [--quant lvq8] [--float-quants f32,f32_pca]

Indexes are built once (2 threads, M=16 / efC=200 for vidx and hnswlib, HNSW32 / efC=200 for
faiss) and cached in --cache. Allowed ids: a seeded random subset at each selectivity. For each
library the ef sweep stops at the first ef whose recall@10 (against exact filtered brute force)
reaches the target; that ef is then timed in --rounds rounds that alternate the libraries, and
the median QPS is reported. vidx gets the allow-list (int64 ids, checked on every call), the same
ids as a vidx.IdSet prepared once outside the timing, and a boolean mask; hnswlib gets the fastest
Python callable there is (a set's __contains__); faiss an IDSelectorBatch built once outside the
timing. vidx's per-call conversion of the filter is inside its timing. Timed loops run with
Python's cyclic collector paused (timeit's way, vidx/bench/timing.py): a collection falling into
one library's loop of a few hundred queries moved single runs' ratios by several percent.
--float-quants lists the float32 codecs whose three filter forms go into the float table (f32_pca:
float32 in a learnt rotation, with calibrated early exits; its vectors are float32 to ~1e-6;
lvq8+f32: LVQ-8 codes walked, float32 vectors kept and the candidates re-ranked with them, so
results and distances are float32's).
With --quant (default lvq8), a second table: vidx HNSW with that codec vs faiss IndexHNSWSQ
(8-bit scalar quantizer, HNSW32, efC=200), both filtered the same way, reported beside the float32
peers but never mixed with the float-vs-float ratios."""
import argparse
import json
import os
import statistics
import sys
import time

# numpy's OpenBLAS threads spin on the other core for a while after any matrix product (recall
# and ground-truth arithmetic), taking it from the single-thread loops of every library alike.
# Pin them before numpy loads; the libraries' own threads (faiss's OpenMP, vidx's pool) are set
# per call and unaffected.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from vidx.bench.peers import vidx_quant_and_keep  # noqa: E402
from vidx.bench.timing import timed_call  # noqa: E402

EFS = [10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
SELECTIVITIES = [0.5, 0.1, 0.01, 0.001]


def exact_filtered(train, norms, queries, allowed, k=10):
    x = train[allowed]
    d = norms[allowed][None, :] - 2.0 * (queries @ x.T)
    return allowed[np.argsort(d, axis=1)[:, :k]]


def recall(found, truth):
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth)]))


class Vidx:
    name = "vidx"

    def __init__(self, train, cache, mode="ids", quant="f32", compressed=False):
        import vidx
        path = os.path.join(cache, "vidx.vidx" if quant == "f32" else f"vidx_{quant}.vidx")
        if not os.path.exists(path):
            codec, keep_vectors = vidx_quant_and_keep(quant)  # "lvq8+f32": float32 vectors kept to re-rank with
            idx = vidx.Index(train.shape[1], M=16, ef_construction=200, threads=2, quant=codec,
                             keep_vectors=keep_vectors)
            idx.add(train)
            idx.save(path)
        self.index = vidx.load(path)
        self.index.threads = 1
        self.mode = mode
        self.name = self.label(quant, mode, compressed)

    @staticmethod
    def label(quant, mode, compressed=False):
        if compressed:
            return f"vidx {quant}"
        suffix = {"ids": "", "mask": " (mask)", "idset": " (IdSet)"}[mode]
        return ("vidx" if quant == "f32" else f"vidx {quant}") + suffix

    def prepare(self, allowed, n):
        if self.mode == "ids":
            return allowed
        if self.mode == "idset":  # prepared once, like faiss's IDSelectorBatch
            import vidx
            return vidx.IdSet(allowed)
        mask = np.zeros(n, dtype=bool)
        mask[allowed] = True
        return mask

    def query(self, q, ef, flt):
        return self.index.search(q, 10, ef=ef, filter=flt)[1][0]


class Hnswlib:
    name = "hnswlib"

    def __init__(self, train, cache):
        import hnswlib
        path = os.path.join(cache, "hnswlib.bin")
        self.index = hnswlib.Index(space="l2", dim=train.shape[1])
        if os.path.exists(path):
            self.index.load_index(path, max_elements=len(train))
        else:
            self.index.init_index(max_elements=len(train), M=16, ef_construction=200, random_seed=1)
            self.index.set_num_threads(2)
            self.index.add_items(train, np.arange(len(train)))
            self.index.save_index(path)
        self.index.set_num_threads(1)

    def prepare(self, allowed, n):
        return set(allowed.tolist()).__contains__

    def query(self, q, ef, flt):
        self.index.set_ef(max(ef, 10))
        return self.index.knn_query(q, k=10, filter=flt)[0][0]


class Faiss:
    name = "faiss"

    def __init__(self, train, cache, sq8=False):
        import faiss
        self.faiss = faiss
        self.name = "faiss SQ8" if sq8 else "faiss"
        path = os.path.join(cache, "faiss_hnsw32_sq8.index" if sq8 else "faiss_hnsw32.index")
        if os.path.exists(path):
            self.index = faiss.read_index(path)
        else:
            faiss.omp_set_num_threads(2)
            if sq8:  # 8-bit scalar quantizer, per-dimension ranges trained on the data
                self.index = faiss.IndexHNSWSQ(train.shape[1], faiss.ScalarQuantizer.QT_8bit, 32)
                self.index.train(train)
            else:
                self.index = faiss.IndexHNSWFlat(train.shape[1], 32)
            self.index.hnsw.efConstruction = 200
            self.index.add(train)
            faiss.write_index(self.index, path)
        faiss.omp_set_num_threads(1)

    def prepare(self, allowed, n):
        sel = self.faiss.IDSelectorBatch(allowed.astype(np.int64))
        return sel

    def query(self, q, ef, sel):
        params = self.faiss.SearchParametersHNSW(sel=sel, efSearch=ef)
        return self.index.search(q.reshape(1, -1), 10, params=params)[1][0]


def run_queries(lib, queries, ef, flt):
    found = np.empty((len(queries), 10), np.int64)

    def loop():
        for i, q in enumerate(queries):
            found[i] = lib.query(q, ef, flt)

    seconds, _ = timed_call(loop)
    return found, len(queries) / seconds


def matched_ef(lib, queries, truth, flt, target):
    """The first ef of the sweep reaching the target recall (QPS falls as ef grows)."""
    for ef in EFS:
        found, _ = run_queries(lib, queries[:100], ef, flt)
        if recall(found, truth[:100]) >= target:
            return ef
    return EFS[-1]


def batch_vs_single(index, queries, per_query, rounds):
    """One search() call with nq per-query filters vs one call per query, single thread."""
    batch, single = [], []
    for _ in range(rounds):
        batch.append(timed_call(lambda: index.search(queries, 10, filter=per_query))[0])
        single.append(timed_call(lambda: [index.search(q, 10, filter=f) for q, f in zip(queries, per_query)])[0])
    return statistics.median(batch), statistics.median(single)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="fashion-mnist-784-euclidean")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--cache", default="/tmp/filters_bench")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quant", default="lvq8",
                    help="vidx codec of the compressed rows (compared with faiss IndexHNSWSQ 8-bit); '' for none")
    ap.add_argument("--float-quants", default="f32",
                    help="comma-separated float32 codecs of the float table (f32, f32_pca)")
    ap.add_argument("--selectivities", default=",".join(map(str, SELECTIVITIES)),
                    help="comma-separated shares of allowed ids")
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)
    import vidx.datasets
    ds = vidx.datasets.load(args.dataset)
    train = np.ascontiguousarray(ds.train, dtype=np.float32)
    queries = np.ascontiguousarray(ds.test[vidx.datasets.spread_rows(len(ds.test), args.queries)], dtype=np.float32)
    norms = (train.astype(np.float32) ** 2).sum(1)
    t = time.perf_counter()
    float_quants = args.float_quants.split(",")
    libs = [Vidx(train, args.cache, mode, quant) for quant in float_quants for mode in ("ids", "mask", "idset")]
    libs += [Hnswlib(train, args.cache), Faiss(train, args.cache)]
    if args.quant:
        libs += [Vidx(train, args.cache, quant=args.quant, compressed=True), Faiss(train, args.cache, sq8=True)]
    print(f"indexes ready in {time.perf_counter() - t:.0f} s", flush=True)
    rng = np.random.default_rng(42)
    rows = []
    for sel in [float(s) for s in args.selectivities.split(",")]:
        allowed = np.sort(rng.choice(len(train), max(10, int(round(sel * len(train)))), replace=False))
        truth = exact_filtered(train, norms, queries, allowed)
        filters = {lib.name: lib.prepare(allowed, len(train)) for lib in libs}
        efs = {lib.name: matched_ef(lib, queries, truth, filters[lib.name], args.target) for lib in libs}
        qps = {lib.name: [] for lib in libs}
        rec = {}
        for _ in range(args.rounds):
            for lib in libs:
                found, q = run_queries(lib, queries, efs[lib.name], filters[lib.name])
                qps[lib.name].append(q)
                rec[lib.name] = recall(found, truth)
        row = {"selectivity": sel, "allowed": int(len(allowed))}
        for lib in libs:
            row[lib.name] = {"ef": efs[lib.name], "recall": rec[lib.name], "qps": statistics.median(qps[lib.name])}
        rows.append(row)
        print(json.dumps(row), flush=True)
    # one batch with a different filter per query vs one call each
    per_query = [np.sort(rng.choice(len(train), int(s * len(train)), replace=False))
                 for s in np.resize([0.5, 0.1, 0.01], len(queries))]
    b, s = batch_vs_single(libs[0].index, queries, per_query, args.rounds)
    batch = {"queries": len(queries), "batch_s": b, "one_call_each_s": s}
    print(json.dumps(batch), flush=True)
    report(rows, batch, args)


def report(rows, batch, args):
    lines = [f"## Filtered search: {args.dataset}, single thread, one query per call",
             "", f"Command: `python benchmarks/filters_bench.py --queries {args.queries} --rounds {args.rounds}"
             f" --selectivities {args.selectivities} --quant {args.quant or repr('')}"
             f" --float-quants {args.float_quants}`",
             f"Target recall@10 of the exact filtered top-10: {args.target}; median QPS over {args.rounds} rounds.", "",
             "vidx ids: an int64 array per call (checked each call); IdSet: the same ids prepared once "
             "(vidx.IdSet, outside the timing like faiss's IDSelectorBatch). Ratios: ids / IdSet / mask over the peer.", "",
             "| selectivity | allowed | vidx quant | vidx ef / recall / QPS | vidx IdSet QPS | vidx mask QPS | hnswlib ef / recall / QPS | faiss ef / recall / QPS | vidx/hnswlib | vidx/faiss |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h, f = r["hnswlib"], r["faiss"]
        for quant in args.float_quants.split(","):
            v, p, m = (r[Vidx.label(quant, mode)] for mode in ("ids", "idset", "mask"))

            def ratios(peer):
                return " / ".join(f"{x['qps'] / peer['qps']:.2f}x" for x in (v, p, m))
            lines.append(f"| {r['selectivity']:g} | {r['allowed']} | {quant} | {v['ef']} / {v['recall']:.3f} / {v['qps']:.0f} | "
                         f"{p['qps']:.0f} ({p['recall']:.3f}) | {m['qps']:.0f} ({m['recall']:.3f}) | "
                         f"{h['ef']} / {h['recall']:.3f} / {h['qps']:.0f} | {f['ef']} / {f['recall']:.3f} / {f['qps']:.0f} | "
                         f"{ratios(h)} | {ratios(f)} |")
    if args.quant:
        q, fs = f"vidx {args.quant}", "faiss SQ8"
        lines += ["", f"Compressed: vidx HNSW quant=\"{args.quant}\" (re-ranked by its second level where it has one) vs faiss IndexHNSWSQ(QT_8bit, 32) with "
                  "IDSelectorBatch, same run. The last two columns compare vidx's compressed index with the float32 "
                  "peers above: a compressed-vs-float ratio, not a like-for-like one.", "",
                  f"| selectivity | {q} ef / recall / QPS | faiss SQ8 ef / recall / QPS | {q}/faiss SQ8 | {q}/hnswlib (float) | {q}/faiss (float) |",
                  "|---|---|---|---|---|---|"]
        for r in rows:
            v, f, h, ff = r[q], r[fs], r["hnswlib"], r["faiss"]
            lines.append(f"| {r['selectivity']:g} | {v['ef']} / {v['recall']:.3f} / {v['qps']:.0f} | "
                         f"{f['ef']} / {f['recall']:.3f} / {f['qps']:.0f} | {v['qps'] / f['qps']:.2f}x | "
                         f"{v['qps'] / h['qps']:.2f}x | {v['qps'] / ff['qps']:.2f}x |")
    lines += ["", f"Batch of {batch['queries']} queries with a different allow-list each (50/10/1%), single thread: "
              f"{batch['batch_s'] * 1e3:.1f} ms in one call vs {batch['one_call_each_s'] * 1e3:.1f} ms in one call each "
              f"({batch['one_call_each_s'] / batch['batch_s']:.2f}x)."]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(text + "\n\n")


if __name__ == "__main__":
    main()
