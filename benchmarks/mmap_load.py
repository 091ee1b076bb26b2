"""vidx.load(path, mmap=True) against a plain load on a ~1 GB HNSW file: load time and the
process's resident memory after loading and after 100 / 1000 searches, each measured in a
fresh process.

    python benchmarks/mmap_load.py [--rows 1000000] [--dim 192] [--keep]

Builds random float32 rows (the file size grows as rows * (4 * dim + 4 * (2M + 1)) rounded to
64 bytes), saves to /tmp, measures, deletes the file unless --keep. "cold" runs first evict the
file's pages from the page cache with posix_fadvise(DONTNEED) (this file only; nothing else is
dropped); "warm" runs find them cached. fincore (util-linux) reports how much of the file is
cached when it is available.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def rss_kib():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                fields[key] = int(value.split()[0])
    return fields


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_fraction(path):
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", path],
                             capture_output=True, text=True, check=True).stdout.split()
        return int(out[0]) / max(1, int(out[1]))
    except (OSError, subprocess.CalledProcessError, IndexError, ValueError):
        return None


def child(args):
    import vidx
    rng = np.random.default_rng(123)
    queries = rng.standard_normal((1000, args.dim)).astype(np.float32)
    before = rss_kib()
    t = time.perf_counter()
    idx = vidx.load(args.path, mmap=args.mode == "mmap")
    load_s = time.perf_counter() - t
    after_load = rss_kib()
    _, I100 = idx.search(queries[:100], 10)
    after_100 = rss_kib()
    t = time.perf_counter()
    _, I1000 = idx.search(queries, 10)
    search_s = time.perf_counter() - t
    after_1000 = rss_kib()
    print(json.dumps({"load_s": load_s, "rss_before": before, "rss_after_load": after_load,
                      "rss_after_100": after_100, "rss_after_1000": after_1000, "search_1000_s": search_s,
                      "ids_digest": int(np.int64(I1000).sum()), "read_only": idx.read_only}))


def run_child(path, mode, dim):
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--path", path, "--dim", str(dim)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=192)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--path")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--child", choices=["mmap", "full"])
    ap.add_argument("--mode", default=None)
    args = ap.parse_args()
    if args.child:
        args.mode = args.child
        return child(args)

    import vidx
    path = args.path or os.path.join(tempfile.gettempdir(), f"vidx-mmap-bench-{os.getpid()}.vidx")
    if not os.path.exists(path):
        rng = np.random.default_rng(7)
        idx = vidx.Index(args.dim, "l2", kind="hnsw", M=16, ef_construction=32, seed=1)
        t = time.perf_counter()
        for start in range(0, args.rows, 100_000):  # bounded memory for the rows
            n = min(100_000, args.rows - start)
            idx.add(rng.standard_normal((n, args.dim)).astype(np.float32))
            print(f"built {start + n} rows, {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        idx.save(path)
        del idx
    size = os.path.getsize(path)
    print(f"file {path}: {size / 1e9:.3f} GB, {args.rows} x {args.dim} float32, HNSW M=16", flush=True)
    try:
        results = {}
        for mode in ("mmap", "full"):
            for cache in ("cold", "warm"):
                runs = []
                for _ in range(args.repeats):
                    if cache == "cold":
                        evict(path)
                    else:
                        with open(path, "rb") as f:  # make sure it is cached
                            while f.read(1 << 24):
                                pass
                    cached = cached_fraction(path)
                    r = run_child(path, mode, args.dim)
                    r["cached_before"] = cached
                    runs.append(r)
                results[(mode, cache)] = runs
        digests = {r["ids_digest"] for runs in results.values() for r in runs}
        print(f"identical results in every run: {len(digests) == 1}")
        print("mode  cache  load_s(median)  RSS MiB: before  after_load  after_100  after_1000  (RssFile after_1000)"
              "  search_1000_s  cached_before")
        for (mode, cache), runs in results.items():
            med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731
            mib = lambda key, field="VmRSS": statistics.median(r[key][field] for r in runs) / 1024  # noqa: E731
            cached = runs[0]["cached_before"]
            print(f"{mode:5} {cache:5}  {med('load_s'):.4f} ({min(r['load_s'] for r in runs):.4f}-"
                  f"{max(r['load_s'] for r in runs):.4f})  {mib('rss_before'):.0f}  {mib('rss_after_load'):.0f}  "
                  f"{mib('rss_after_100'):.0f}  {mib('rss_after_1000'):.0f}  ({mib('rss_after_1000', 'RssFile'):.0f})"
                  f"  {med('search_1000_s'):.3f}  {'n/a' if cached is None else f'{cached:.2f}'}")
    finally:
        if not args.keep and not args.path:
            os.remove(path)


if __name__ == "__main__":
    main()
