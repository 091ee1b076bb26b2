"""SPANN posting codecs: one index per quant on an ann-benchmarks set, then an nprobe sweep.

    python benchmarks/spann_codecs.py --dataset glove6b-50-angular --queries 1000
    python benchmarks/spann_codecs.py --baseline /tmp/vidx-main/python   # also main's SPANN (f32)

For each quant (built once, saved, then searched in a fresh child process so that "resident"
is the loaded index alone): recall@10 (share of the true 10 ids found), mean single-query
latency on one thread (--queries calls of one query each), KiB of posting pages read per query
(lists and, for two-level codecs, tail pages), and memory_usage() as a % of the raw float32
bytes after a sweep of nprobe 4..256 (search buffers included). With --baseline, the same f32
search runs against the code at that path (the previous SPANN API), alternating with ours
--reps times, and the medians of the mean latencies are compared.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def cache_folder() -> Path:
    return Path(os.environ.get("VIDX_DATA") or Path.home() / ".cache" / "vidx")


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def load_data(path, nq):
    import h5py
    with h5py.File(path, "r") as f:
        metric = {"euclidean": "l2", "angular": "cosine"}[f.attrs["distance"]]
        from vidx.datasets import spread_rows
        rows = spread_rows(len(f["test"]), nq)  # ordered test sets: not the first rows
        return (f["test"][rows].astype(np.float32), f["neighbors"][rows, :10].astype(np.int64), metric,
                int(np.prod(f["train"].shape)) * 4, f["train"].shape)


# ---- children -----------------------------------------------------------------------------

def child_build(cfg):
    import vidx
    _, _, metric, _, shape = load_data(cfg["data"], 1)
    if cfg.get("old_api"):
        from vidx.spann import SpannIndex
        idx = SpannIndex(shape[1], metric, path=cfg["postings"])
    else:
        idx = vidx.Index(shape[1], metric, kind="spann", path=cfg["postings"], quant=cfg["quant"])
    t = time.perf_counter()
    idx.add(cfg["data"], dataset="train", progress=False)
    build_s = time.perf_counter() - t
    idx.save(cfg["index"])
    return dict(build_s=build_s, posting_bytes=os.path.getsize(cfg["postings"]))


def child_search(cfg):
    import vidx
    test, gt, metric, raw_bytes, _ = load_data(cfg["data"], cfg["queries"])
    old = cfg.get("old_api")
    rss0 = rss()
    if old:
        from vidx.spann import load_spann
        idx = load_spann(cfg["index"])
    else:
        idx = vidx.load(cfg["index"])
        idx.threads = 1
    resident = rss() - rss0

    def search(q, nprobe, rerank):
        if old:
            return idx.search(q, 10, nprobe=nprobe)
        return idx.search(q, 10, nprobe=nprobe, rerank=rerank or None)

    def stats():
        if old:
            s = idx.io_stats()
            return s["queries"], s["bytes"]
        s = idx.stats()
        return s["queries"], s["bytes_read"]

    rows = []
    for nprobe in cfg["nprobe"]:
        search(test[:20], nprobe, cfg["rerank"])  # warm
        q0, b0 = stats()
        I = np.empty((len(test), 10), np.int64)
        lat = np.empty(len(test))
        for i in range(len(test)):
            t = time.perf_counter()
            I[i] = search(test[i], nprobe, cfg["rerank"])[1][0]
            lat[i] = time.perf_counter() - t
        q1, b1 = stats()
        hits = sum(len(np.intersect1d(I[i], gt[i])) for i in range(len(I)))
        rows.append(dict(nprobe=nprobe, recall=hits / (10 * len(I)), mean_ms=1e3 * lat.mean(),
                         kib=(b1 - b0) / max(q1 - q0, 1) / 1024))
    for nprobe in (4, 8, 16, 32, 64, 128, 256):
        search(test[:50], nprobe, cfg["rerank"])
    return dict(rows=rows, resident=resident, memory_after_sweep=idx.memory_usage(), raw_bytes=raw_bytes)


def run_child(fn, cfg, pythonpath=None):
    if fn == "build" and os.path.exists(cfg["index"]) and not os.environ.get("REBUILD"):
        return dict(reused=True, posting_bytes=os.path.getsize(cfg["postings"]))
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run([sys.executable, __file__, "--child", fn, json.dumps(cfg)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- parent --------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="glove6b-50-angular")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--quants", default="none,f16,lvq8,lvq4x8,binary")
    ap.add_argument("--nprobe", default="8,16,32,64")
    ap.add_argument("--rerank", type=int, default=0, help="0: the index's automatic choice (16 * k)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/vidx-spann-codecs"))
    ap.add_argument("--baseline", default=None, help="PYTHONPATH of the previous vidx (old SPANN API)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "spann_codecs.json")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = str(cache_folder() / f"{args.dataset}.hdf5")
    nprobe = [int(v) for v in args.nprobe.split(",")]
    results = {}
    for quant in args.quants.split(","):
        rerank = args.rerank
        if quant.startswith("binary") or quant == "rabitq":
            rerank = rerank or 400
        cfg = dict(data=data, quant=quant, queries=args.queries, nprobe=nprobe, rerank=rerank,
                   postings=str(args.workdir / f"{quant}.postings"), index=str(args.workdir / f"{quant}.spann"))
        built = run_child("build", cfg)
        res = run_child("search", cfg)
        results[quant] = dict(build=built, search=res, rerank=rerank)
        print(quant, json.dumps(results[quant]), file=sys.stderr, flush=True)
    if args.baseline:
        cfg = dict(data=data, quant="none", queries=args.queries, nprobe=nprobe, rerank=0, old_api=True,
                   postings=str(args.workdir / "main.postings"), index=str(args.workdir / "main.spann"))
        run_child("build", cfg, args.baseline)
        ours = dict(cfg, old_api=False, postings=str(args.workdir / "none.postings"),
                    index=str(args.workdir / "none.spann"))
        reps = {"main": [], "ours": []}
        for _ in range(args.reps):
            reps["main"].append(run_child("search", cfg, args.baseline))
            reps["ours"].append(run_child("search", ours))
        results["baseline"] = reps
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        fn = {"build": child_build, "search": child_search}[sys.argv[2]]
        print(json.dumps(fn(json.loads(sys.argv[3]))))
    else:
        main()
