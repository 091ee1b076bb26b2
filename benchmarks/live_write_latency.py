"""Search latency while one large add() runs on another thread (issue 10: writes must not stop
searches for a whole batch).

    PYTHONPATH=<private copy of the package> python benchmarks/live_write_latency.py [--rows 1000000]

For each kind/codec: an index of 1,000 random 16-d rows; then one thread adds --rows more in one
call while the main thread searches one query at a time (k=5) until the add returns. Reported:
the add's wall time, how many searches ran inside it, and their latency (median, p99, max)
against the same searches with no writer. With writes that exclude searches, the slowest search
waits for a whole add_rows call; with concurrent writes it waits only for the storage to grow.
"""
import argparse
import statistics
import threading
import time

import numpy as np

import vidx


def latencies_beside_add(kind, quant, rows, seed=0):
    rng = np.random.default_rng(seed)
    idx = vidx.Index(16, kind=kind, quant=quant, threads=1, M=16, ef_construction=40)
    idx.add(rng.standard_normal((1000, 16)).astype(np.float32))
    q = rng.standard_normal((1, 16)).astype(np.float32)
    alone = []
    for _ in range(2000):
        t0 = time.perf_counter()
        idx.search(q, k=5)
        alone.append(time.perf_counter() - t0)
    big = rng.standard_normal((rows, 16)).astype(np.float32)
    window = {}

    def add():
        window["start"] = time.perf_counter()
        idx.add(big)
        window["end"] = time.perf_counter()

    writer = threading.Thread(target=add)
    writer.start()
    calls = []
    while writer.is_alive():
        t0 = time.perf_counter()
        idx.search(q, k=5)
        calls.append((t0, time.perf_counter()))
    writer.join()
    inside = sorted(b - a for a, b in calls if a >= window["start"] and b <= window["end"])
    return window["end"] - window["start"], sorted(alone), inside


def ms(x):
    return f"{x * 1e3:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cases", default="flat/none,flat/lvq8,hnsw/none")
    args = ap.parse_args()
    print("| kind/quant | add s | searches inside the add | alone p50 / p99 / max ms | beside the add p50 / p99 / max ms |")
    print("|---|---|---|---|---|")
    for case in args.cases.split(","):
        kind, quant = case.split("/")
        rows = args.rows if kind == "flat" else min(args.rows, 100_000)  # an HNSW insert costs far more per row
        add_s, alone, inside = latencies_beside_add(kind, quant, rows)
        p = lambda v, f: v[min(len(v) - 1, int(len(v) * f))]  # noqa: E731
        beside = f"{ms(statistics.median(inside))} / {ms(p(inside, 0.99))} / {ms(inside[-1])}" if inside else "none ran"
        print(f"| {case} ({rows} rows) | {add_s:.2f} | {len(inside)} | {ms(statistics.median(alone))} / "
              f"{ms(p(alone, 0.99))} / {ms(alone[-1])} | {beside} |", flush=True)


if __name__ == "__main__":
    main()
