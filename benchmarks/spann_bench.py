"""SPANN benchmark: build from disk under a memory budget, then an nprobe sweep.

    python benchmarks/make_clustered_1m.py                       # once: the 1M x 128 set
    python benchmarks/spann_bench.py --dataset clustered-1m-128-euclidean --memory-budget 4G
    python benchmarks/spann_bench.py --dataset fashion-mnist-784-euclidean
    python benchmarks/spann_bench.py --dataset glove6b-50-angular --diskann
    python benchmarks/spann_bench.py --dataset glove6b-50-angular --quant lvq4x8   # LVQ-4x8 postings

Datasets are ann-benchmarks HDF5 files in the cache folder ($VIDX_DATA or ~/.cache/vidx).

1. Build, in a child process: the index streams ``train`` straight from the HDF5 file (it is
   never loaded whole by the benchmark), writes its posting file into --workdir and saves the
   small index file. Reported: wall time, the child's peak RSS (VmHWM, whole process) and its
   RSS before the build, the build's own tracked peak, heads, entries, posting file size.
2. Search, in a fresh child process: queries and ground truth are loaded first, then the index;
   "resident MiB" is the growth of the process RSS across load_spann (what the loaded index
   occupies; the page cache is not part of RSS and O_DIRECT bypasses it anyway) next to the
   index's own memory_usage(). For each nprobe: recall@10 (ann-benchmarks rule: a result counts
   if its distance is within the 10th true distance x (1 + 1e-3)), single-query latency over
   --queries queries (one call per query, mean and p99) and its QPS, batch QPS (one call, all
   cores), and bytes / lists read per query.
3. With --diskann (when diskannpy is installed): diskannpy's disk index built with a PQ budget
   equal to the SPANN index's resident memory, searched over the same queries with a sweep of
   complexity (L); the same measures except bytes read.
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

from vidx.datasets import spread_rows

HERE = Path(__file__).resolve().parent


def cache_folder() -> Path:
    return Path(os.environ.get("VIDX_DATA") or Path.home() / ".cache" / "vidx")


def parse_bytes(text: str) -> int:
    text = text.strip().upper()
    for suffix, mult in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if text.endswith(suffix) or text.endswith(suffix + "B") or text.endswith(suffix + "IB"):
            return int(float(text.rstrip("IB").rstrip(suffix)) * mult)
    return int(text)


def proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rss() -> int:
    return proc_status("VmRSS")


# ---- children ------------------------------------------------------------------------------

def child_build(cfg: dict) -> dict:
    import h5py
    import vidx
    with h5py.File(cfg["data"], "r") as f:
        n, dim = f["train"].shape
        metric = {"euclidean": "l2", "angular": "cosine"}[f.attrs["distance"]]
    rss0 = rss()
    idx = vidx.Index(dim, metric, kind="spann", path=cfg["postings"], memory_budget=cfg["memory_budget"],
                     head_ratio=cfg["head_ratio"], quant=cfg["quant"], threads=cfg["threads"],
                     direct_io=not cfg["buffered"])
    t = time.perf_counter()
    idx.add(cfg["data"], dataset="train", progress=cfg["progress"])
    build_s = time.perf_counter() - t
    idx.save(cfg["index"])
    return dict(n=int(n), dim=int(dim), metric=metric, build_s=build_s, rss_before=rss0, peak_rss=proc_status("VmHWM"),
                stats=idx.stats(), memory_usage=idx.memory_usage(),
                effective_head_ratio=idx.stats()["effective_head_ratio"])


def query_rows(f, cfg: dict) -> np.ndarray:
    """The test rows a run searches: cfg["batch_queries"] of them spread over the stored order (the
    first rows of an ordered test set are no fair sample)."""
    return spread_rows(len(f["test"]), cfg["batch_queries"])


def recall_at_10(D, gt_dist, metric):
    d = np.sqrt(np.maximum(D[:, :10].astype(np.float64), 0)) if metric == "l2" else D[:, :10].astype(np.float64)
    thr = gt_dist[:, 9:10] * (1 + 1e-3) + 1e-6
    return float(np.mean(np.sum(d <= thr, axis=1) / 10))


def child_search(cfg: dict) -> dict:
    import h5py
    import vidx  # noqa: F401  (import cost outside the measured load)
    with h5py.File(cfg["data"], "r") as f:
        rows = query_rows(f, cfg)
        test = f["test"][rows].astype(np.float32)
        gt_dist = f["distances"][rows, :10].astype(np.float64)
        gt_ids = f["neighbors"][rows, :10].astype(np.int64)
        metric_name = f.attrs["distance"]
        raw_bytes = int(np.prod(f["train"].shape)) * 4
    rss0 = rss()
    idx = vidx.load(cfg["index"], direct_io=not cfg["buffered"])
    resident = rss() - rss0
    out = dict(resident_bytes=resident, memory_usage=idx.memory_usage(), raw_bytes=raw_bytes,
               direct_io=idx.direct_io, heads=idx.heads, quant=idx.params["quant"],
               posting_file_bytes=os.path.getsize(idx.posting_path), rows=[])
    metric = idx.metric
    nq = min(cfg["queries"], len(test))
    single = spread_rows(len(test), nq)
    for nprobe in cfg["nprobe"]:
        eps = cfg["eps"]
        idx.search(test[:20], 10, nprobe=nprobe, eps=eps)  # warm the buffers
        idx.reset_stats()
        lat = np.empty(nq)
        D1 = np.empty((nq, 10), np.float32)
        for i, row in enumerate(single):
            t = time.perf_counter()
            D1[i], _ = idx.search(test[row], 10, nprobe=nprobe, eps=eps)
            lat[i] = time.perf_counter() - t
        io = idx.stats()
        t = time.perf_counter()
        D, I = idx.search(test, 10, nprobe=nprobe, eps=eps)
        batch_s = time.perf_counter() - t
        # recall_ids: the share of the true 10 ids found. With a compressed codec (lvq8, f16) the
        # reported distances are approximate, and the distance rule of `recall` is then biased
        # either way; the id rule is not (for f32 the two agree up to ties).
        hits = sum(len(np.intersect1d(I[i], gt_ids[i])) for i in range(len(I)))
        out["rows"].append(dict(
            nprobe=nprobe, recall=recall_at_10(D, gt_dist, metric), recall_ids=hits / (10 * len(I)),
            recall_single=recall_at_10(D1, gt_dist[single], metric),
            mean_ms=1e3 * lat.mean(), p99_ms=1e3 * np.percentile(lat, 99), qps_single=nq / lat.sum(),
            qps_batch=len(test) / batch_s, kib_per_query=io["bytes_read"] / io["queries"] / 1024,
            lists_per_query=io["lists_read"] / io["queries"], entries_per_query=io["entries_scanned"] / io["queries"]))
        print(json.dumps(out["rows"][-1]), file=sys.stderr)
    out["peak_rss"] = proc_status("VmHWM")
    out["rss_growth_after_sweep"] = rss() - rss0
    out["memory_usage_after_sweep"] = idx.memory_usage()
    out["metric_name"] = metric_name
    return out


def child_diskann(cfg: dict) -> dict:
    import h5py
    import diskannpy as dap
    with h5py.File(cfg["data"], "r") as f:
        train = f["train"][:].astype(np.float32)
        rows = query_rows(f, cfg)
        test = f["test"][rows].astype(np.float32)
        gt_dist = f["distances"][rows, :10].astype(np.float64)
        metric = {"euclidean": "l2", "angular": "cosine"}[f.attrs["distance"]]
    if metric == "cosine":
        # diskannpy's disk index has no cosine: unit vectors under L2 rank the same, and
        # 1 - cos = |a - b|^2 / 2 converts the distances back.
        train /= np.maximum(np.linalg.norm(train, axis=1, keepdims=True), 1e-30)
        test /= np.maximum(np.linalg.norm(test, axis=1, keepdims=True), 1e-30)
    scale = 0.5 if metric == "cosine" else 1.0
    metric = "l2"
    folder = Path(cfg["workdir"]) / (cfg["name"] + "-diskann")
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    if not (folder / "ann_disk.index").exists():
        dap.build_disk_index(data=train, distance_metric=metric, index_directory=str(folder),
                             complexity=100, graph_degree=64, search_memory_maximum=cfg["pq_gib"],
                             build_memory_maximum=4.0, num_threads=cfg["threads"] or os.cpu_count(),
                             pq_disk_bytes=0, index_prefix="ann")
    build_s = time.perf_counter() - t
    n = len(train)
    del train
    rss0 = rss()
    idx = dap.StaticDiskIndex(index_directory=str(folder), num_threads=cfg["threads"] or os.cpu_count(),
                              num_nodes_to_cache=0, cache_mechanism=0, distance_metric=metric,
                              vector_dtype=np.float32, dimensions=test.shape[1], index_prefix="ann")
    resident = rss() - rss0
    out = dict(build_s=build_s, resident_bytes=resident, rows=[])
    nq = min(cfg["queries"], len(test))
    single = spread_rows(len(test), nq)
    for L in cfg["diskann_L"]:
        lat = np.empty(nq)
        D1 = np.empty((nq, 10), np.float32)
        for i, row in enumerate(single):
            t = time.perf_counter()
            _, d = idx.search(test[row], k_neighbors=10, complexity=L, beam_width=4)
            D1[i] = d * scale
            lat[i] = time.perf_counter() - t
        t = time.perf_counter()
        _, D = idx.batch_search(test, k_neighbors=10, complexity=L, beam_width=4,
                                num_threads=cfg["threads"] or os.cpu_count())
        batch_s = time.perf_counter() - t
        # squared L2 (scaled to 1 - cos for angular data), as vidx reports them
        out["rows"].append(dict(L=L, recall=recall_at_10(D * scale, gt_dist, "l2" if scale == 1.0 else "cosine"),
                                mean_ms=1e3 * lat.mean(), p99_ms=1e3 * np.percentile(lat, 99),
                                qps_single=nq / lat.sum(), qps_batch=len(test) / batch_s))
        print(json.dumps(out["rows"][-1]), file=sys.stderr)
    return out


def run_child(kind: str, cfg: dict, python: str = sys.executable) -> dict:
    env = dict(os.environ)
    proc = subprocess.run([python, __file__, "--child", kind, json.dumps(cfg)], env=env,
                          stdout=subprocess.PIPE, check=True)
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


# ---- main ----------------------------------------------------------------------------------

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        fn = {"build": child_build, "search": child_search, "diskann": child_diskann}[sys.argv[2]]
        print(json.dumps(fn(json.loads(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="clustered-1m-128-euclidean")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/vidx-spann-bench"))
    ap.add_argument("--out", type=Path, default=Path("bench-results"))
    ap.add_argument("--memory-budget", default="4G")
    ap.add_argument("--head-ratio", type=float, default=None, help="default: the index's automatic ratio")
    ap.add_argument("--quant", default="none", help="posting codec (any quant= of vidx.Index)")
    ap.add_argument("--nprobe", default="4,8,16,24,32,48,64")
    ap.add_argument("--eps", type=float, default=10.0)
    ap.add_argument("--queries", type=int, default=1000, help="single-query latency loop")
    ap.add_argument("--batch-queries", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--buffered", action="store_true", help="no O_DIRECT")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--diskann", action="store_true", help="also run diskannpy's disk index")
    ap.add_argument("--diskann-L", default="10,20,30,50,70,100")
    ap.add_argument("--diskann-python", default=sys.executable,
                    help="interpreter that has diskannpy (it pins numpy<2: keep it in its own venv)")
    args = ap.parse_args()

    data = cache_folder() / f"{args.dataset}.hdf5"
    if not data.exists():
        sys.exit(f"no dataset {data} (benchmarks/make_clustered_1m.py makes the clustered one)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    tag = args.dataset + ("" if args.quant == "none" else f"-{args.quant}") + \
        ("" if args.head_ratio is None else f"-h{args.head_ratio:g}")
    cfg = dict(data=str(data), name=args.dataset, workdir=str(args.workdir),
               postings=str(args.workdir / f"{tag}.postings"), index=str(args.workdir / f"{tag}.spann"),
               memory_budget=parse_bytes(args.memory_budget), head_ratio=args.head_ratio, quant=args.quant,
               threads=args.threads,
               buffered=args.buffered, progress=sys.stderr.isatty(), eps=args.eps,
               nprobe=[int(v) for v in args.nprobe.split(",")], queries=args.queries,
               batch_queries=args.batch_queries, diskann_L=[int(v) for v in args.diskann_L.split(",")])
    result = dict(dataset=args.dataset, machine=dict(cpus=os.cpu_count(), uname=" ".join(os.uname())), config=cfg)
    if args.rebuild or not Path(cfg["index"]).exists():
        b = run_child("build", cfg)
        result["build"] = b
        st = b["stats"]
        print(f"build: {b['build_s']:.1f} s, peak RSS {b['peak_rss'] / 2**20:.0f} MiB (process before build "
              f"{b['rss_before'] / 2**20:.0f} MiB, tracked peak {st['peak_tracked_bytes'] / 2**20:.0f} MiB, "
              f"budget {cfg['memory_budget'] / 2**20:.0f} MiB); heads {st['heads']}, entries {st['entries']} "
              f"({st['entries'] / st['vectors']:.2f} per vector), posting file {st['posting_file_bytes'] / 2**20:.0f} MiB, "
              f"write passes {st['write_passes']}; head ratio {b['effective_head_ratio']:.4f}")
    s = run_child("search", cfg)
    result["search"] = s
    print(f"\n{args.dataset}: raw float32 {s['raw_bytes'] / 2**20:.1f} MiB; loaded index resident "
          f"{s['resident_bytes'] / 2**20:.1f} MiB ({100 * s['resident_bytes'] / s['raw_bytes']:.1f}% of raw), "
          f"memory_usage() {s['memory_usage'] / 2**20:.1f} MiB ({100 * s['memory_usage'] / s['raw_bytes']:.1f}%); "
          f"heads {s['heads']}; quant {s['quant']}; posting file {s['posting_file_bytes'] / 2**20:.1f} MiB; "
          f"O_DIRECT {s['direct_io']}; after the sweep (search buffers of every thread "
          f"included) RSS growth {s['rss_growth_after_sweep'] / 2**20:.1f} MiB, memory_usage() "
          f"{s['memory_usage_after_sweep'] / 2**20:.1f} MiB")
    print(f"{'nprobe':>6} {'recall@10':>9} {'id recall':>9} {'mean ms':>8} {'p99 ms':>7} {'QPS 1T':>8} {'QPS batch':>9} "
          f"{'KiB/query':>9} {'lists/q':>7}")
    for r in s["rows"]:
        print(f"{r['nprobe']:>6} {r['recall']:>9.4f} {r['recall_ids']:>9.4f} {r['mean_ms']:>8.3f} {r['p99_ms']:>7.3f} {r['qps_single']:>8.0f} "
              f"{r['qps_batch']:>9.0f} {r['kib_per_query']:>9.1f} {r['lists_per_query']:>7.1f}")
    if args.diskann:
        has = subprocess.run([args.diskann_python, "-c", "import diskannpy, h5py"], capture_output=True).returncode == 0
        if not has:
            print(f"diskannpy is not importable by {args.diskann_python}: skipping the DiskANN comparison")
        else:
            cfg["pq_gib"] = max(s["resident_bytes"], s["memory_usage"]) / 2**30
            d = run_child("diskann", cfg, args.diskann_python)
            result["diskann"] = d
            print(f"\ndiskannpy disk index (PQ budget {cfg['pq_gib'] * 1024:.1f} MiB): build {d['build_s']:.0f} s, "
                  f"resident {d['resident_bytes'] / 2**20:.1f} MiB")
            print(f"{'L':>6} {'recall@10':>9} {'mean ms':>8} {'p99 ms':>7} {'QPS 1T':>8} {'QPS batch':>9}")
            for r in d["rows"]:
                print(f"{r['L']:>6} {r['recall']:>9.4f} {r['mean_ms']:>8.3f} {r['p99_ms']:>7.3f} "
                      f"{r['qps_single']:>8.0f} {r['qps_batch']:>9.0f}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"spann-{tag}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
