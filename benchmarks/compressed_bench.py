"""Compressed HNSW: memory and single-thread QPS at recall@10 >= target, against vidx float32
and faiss IndexHNSWSQ (8-bit scalar quantizer) built and searched in the same run.

    python benchmarks/compressed_bench.py fashion-mnist-784-euclidean --n 20000 --queries 500

A subset of the training set (the first --n rows) keeps runs modest; its exact neighbours are
recomputed here. Builds use --threads. Two QPS figures per ef: latency mode (one query per
call on one thread, as ann-benchmarks runs) and batch mode (all queries in one call on --threads
threads); both from wall time. "codes B" is what
a search walks with per vector (float32/float16 vectors, LVQ primary codes, 1-bit codes),
"rerank B" what only re-ranking reads (LVQ residuals, binary's LVQ-8 codes), from
Index.memory_breakdown().
"""
import argparse
import time

import numpy as np

import vidx
from vidx.datasets import load, spread_rows

K = 10
EFS = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def exact_neighbors(train, test, metric):
    if metric == "cosine":
        train = train / np.linalg.norm(train, axis=1, keepdims=True)
        test = test / np.linalg.norm(test, axis=1, keepdims=True)
    ids = np.empty((len(test), K), np.int64)
    sq = (train.astype(np.float64) ** 2).sum(1)
    for s in range(0, len(test), 100):
        q = test[s:s + 100].astype(np.float64)
        d = sq[None] - 2 * q @ train.T.astype(np.float64)
        ids[s:s + 100] = np.argsort(d, axis=1)[:, :K]
    return ids


def recall(found, truth):
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))


def sweep(search, test, truth, threads):
    """(ef, recall, latency-mode qps, batch qps) for each ef."""
    rows = []
    for ef in EFS:
        search(test[:50], ef, 1)  # warm caches and scratch
        t0 = time.perf_counter()
        ids = np.vstack([search(q[None], ef, 1) for q in test])
        single = len(test) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        search(test, ef, threads)
        batch = len(test) / (time.perf_counter() - t0)
        rows.append((ef, recall(ids, truth), single, batch))
        if rows[-1][1] >= 0.999:
            break
    return rows


def best_qps(rows, target, col=2):
    ok = [row[col] for row in rows if row[1] >= target]
    return max(ok) if ok else None


def run_vidx(ds, train, test, truth, quant, args):
    idx = vidx.Index(ds.dim, metric=ds.vidx_metric, quant=quant, M=args.M, ef_construction=args.ef_construction,
                     threads=args.threads)
    t0 = time.perf_counter()
    idx.add(train)
    build = time.perf_counter() - t0
    def search(q, ef, threads):
        if idx.threads != threads:
            idx.threads = threads
        return idx.search(q, K, ef=ef)[1]

    rows = sweep(search, test, truth, args.threads)
    parts = idx.memory_breakdown()
    per_vec = (parts.get("codes", 0) / len(train), parts.get("rerank_codes", 0) / len(train))
    return build, idx.memory_usage(), rows, per_vec


def run_faiss_sq8(ds, train, test, truth, args):
    import faiss
    if ds.vidx_metric == "cosine":  # ranking by L2 on unit vectors is ranking by cosine
        train = train / np.linalg.norm(train, axis=1, keepdims=True)
        test = test / np.linalg.norm(test, axis=1, keepdims=True)
    faiss.omp_set_num_threads(args.threads)
    index = faiss.IndexHNSWSQ(ds.dim, faiss.ScalarQuantizer.QT_8bit, args.M)
    index.hnsw.efConstruction = args.ef_construction
    t0 = time.perf_counter()
    index.train(train)
    index.add(train)
    build = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)
    # Codes plus level-0 and upper links (faiss keeps 2M level-0 and M upper slots as int32).
    links = faiss.vector_to_array(index.hnsw.neighbors).nbytes
    memory = index.ntotal * index.storage.sa_code_size() + links

    def search(q, ef, threads):
        faiss.omp_set_num_threads(threads)
        index.hnsw.efSearch = ef
        return index.search(np.ascontiguousarray(q), K)[1]

    return build, memory, sweep(search, test, truth, args.threads), (index.storage.sa_code_size(), 0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("datasets", nargs="+")
    p.add_argument("--n", type=int, default=20000, help="training rows used (first n)")
    p.add_argument("--queries", type=int, default=500)
    p.add_argument("--quant", default="none,f16,lvq8,lvq4x4,lvq4x8,lvq8x8,binary,rabitq")
    p.add_argument("--M", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--threads", type=int, default=2, help="build threads")
    p.add_argument("--target", type=float, default=0.95, help="recall@10 the QPS is read at")
    p.add_argument("--no-faiss", action="store_true")
    args = p.parse_args()

    for name in args.datasets:
        ds = load(name, download=False)
        train = np.ascontiguousarray(ds.train[:args.n], np.float32)
        test = np.ascontiguousarray(ds.test[spread_rows(len(ds.test), args.queries)], np.float32)
        truth = exact_neighbors(train, test, ds.vidx_metric)
        print(f"\n## {name}: {len(train)} x {ds.dim}, {len(test)} queries, M={args.M}, "
              f"ef_construction={args.ef_construction}, SIMD {vidx.cpu_features()['active']}")
        results = {}
        for quant in args.quant.split(","):
            results[quant] = run_vidx(ds, train, test, truth, quant, args)
        if not args.no_faiss:
            results["faiss-HNSWSQ8"] = run_faiss_sq8(ds, train, test, truth, args)
        base_mem = results["none"][1] if "none" in results else None
        base_qps = best_qps(results["none"][2], args.target) if "none" in results else None
        sq8_qps = best_qps(results["faiss-HNSWSQ8"][2], args.target) if "faiss-HNSWSQ8" in results else None
        base_batch = best_qps(results["none"][2], args.target, 3) if "none" in results else None
        sq8_batch = best_qps(results["faiss-HNSWSQ8"][2], args.target, 3) if "faiss-HNSWSQ8" in results else None
        f32_bytes = ds.dim * 4
        print(f"| index | build s | memory MiB | x float32 | codes B (x f32) | rerank B | max recall | "
              f"QPS@{args.target} 1 thread, 1 query/call | x vidx f32 | x faiss SQ8 | QPS@{args.target} batch, {args.threads} threads | x vidx f32 | x faiss SQ8 |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for label, (build, mem, rows, (code_b, rerank_b)) in results.items():
            qps, batch = best_qps(rows, args.target), best_qps(rows, args.target, 3)
            ratio = f"{mem / base_mem:.3f}" if base_mem else "-"

            def vs(x, ref):
                return f"{x / ref:.2f}" if x and ref else "-"
            print(f"| {label} | {build:.1f} | {mem / 2**20:.1f} | {ratio} | {code_b:.0f} (1/{f32_bytes / code_b:.1f}) | "
                  f"{rerank_b:.0f} | {max(r[1] for r in rows):.3f} | {qps or 0:.0f} | {vs(qps, base_qps)} | "
                  f"{vs(qps, sq8_qps)} | {batch or 0:.0f} | {vs(batch, base_batch)} | {vs(batch, sq8_batch)} |")
        for label, (_, _, rows, _) in results.items():
            print(label, " ".join(f"ef{ef}:{r:.3f}/{qps:.0f}/{b:.0f}" for ef, r, qps, b in rows))


if __name__ == "__main__":
    main()
