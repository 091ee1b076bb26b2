"""SVS (scalable-vs) Vamana at its best settings on one dataset, against saved hnswlib and vidx in one process."""
import sys, time, h5py, numpy as np, svs, os, statistics, argparse
sys.path.insert(0, "/work/main/benchmarks")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from ab_saved import timed_pass, recall_of
from head_to_head import qps_at_recall

ap = argparse.ArgumentParser()
ap.add_argument("dataset"); ap.add_argument("--hnswlib", required=True); ap.add_argument("--hnswlib-ef", default="10,12,16,24,32,48")
ap.add_argument("--vidx", default=""); ap.add_argument("--vidx-ef", default="10,12,16,24,32,48")
ap.add_argument("--kinds", default="lvq4x8,lvq8"); ap.add_argument("--degree", default="32,64")
ap.add_argument("--windows", default="10,12,16,20,24,32,48,64"); ap.add_argument("--capacity", default="1,1.5,2")
ap.add_argument("--calibrate", action="store_true"); ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--leanvec-dims", type=int, default=0)
args = ap.parse_args()
name = args.dataset
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    X = f["train"][:].astype(np.float32); metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
    nt = len(f["test"]); rows = (np.arange(1000) * nt) // 1000
    Q = f["test"][rows].astype(np.float32); T = f["neighbors"][rows, :10]
    crow = rows + nt // 2000  # calibration queries: others than the measured ones
    CQ = f["test"][crow].astype(np.float32); CT = f["neighbors"][crow, :10].astype(np.uint32)
raw_Q = Q.copy()
if metric == "cosine":
    X /= np.linalg.norm(X, axis=1, keepdims=True); Q /= np.linalg.norm(Q, axis=1, keepdims=True); CQ /= np.linalg.norm(CQ, axis=1, keepdims=True)
dist = svs.DistanceType.L2 if metric == "l2" else svs.DistanceType.MIP
path = f"/tmp/s31/{name}.fvecs"
if not os.path.exists(path):
    svs.write_vecs(X, path)
configs = {}
import hnswlib
peer = hnswlib.Index("l2" if metric == "l2" else "cosine", X.shape[1]); peer.load_index(args.hnswlib); peer.set_num_threads(1)
for ef in map(int, args.hnswlib_ef.split(",")):
    configs[("hnswlib", ef)] = ((lambda ef: lambda: peer.set_ef(ef))(ef), lambda q: peer.knn_query(q, k=10)[0][0], raw_Q)
if args.vidx:
    sys.path.insert(0, "/tmp/ab/s31"); import vidx
    for p in args.vidx.split(","):
        ix = vidx.load(p); ix.threads = 1
        for ef in map(int, args.vidx_ef.split(",")):
            configs[(os.path.basename(p), ef)] = (None, (lambda ix, ef: lambda q: ix.search(q, k=10, ef=ef)[1][0])(ix, ef), raw_Q)
indexes = []
for kind in args.kinds.split(","):
    for R in map(int, args.degree.split(",")):
        params = svs.VamanaBuildParameters(graph_max_degree=R, window_size=200, alpha=1.2 if metric == "l2" else 0.95)
        t = time.perf_counter()
        if kind == "f32":
            index = svs.Vamana.build(params, X, dist, num_threads=2)
        elif kind == "leanvec":
            loader = svs.LeanVecLoader(svs.VectorDataLoader(path, svs.DataType.float32, dims=X.shape[1]), args.leanvec_dims or X.shape[1] // 2)
            index = svs.Vamana.build(params, loader, dist, num_threads=2)
        else:
            p_, r_ = {"lvq8": (8, 0), "lvq4x8": (4, 8), "lvq4x4": (4, 4), "lvq4": (4, 0), "lvq8x8": (8, 8)}[kind]
            loader = svs.LVQLoader(svs.VectorDataLoader(path, svs.DataType.float32, dims=X.shape[1]), primary=p_, residual=r_)
            index = svs.Vamana.build(params, loader, dist, num_threads=2)
        print(f"svs {kind} R={R}: built in {time.perf_counter() - t:.1f} s", flush=True)
        index.num_threads = 1
        base = index.search_parameters
        if args.calibrate:
            sp = index.experimental_calibrate(CQ, CT, 10, 0.95)
            base = index.search_parameters
            print("  calibrated:", sp.buffer_config.search_window_size, sp.buffer_config.search_buffer_capacity,
                  sp.prefetch_lookahead, sp.prefetch_step, sp.search_buffer_visited_set, flush=True)
        indexes.append(index)
        for w in map(int, args.windows.split(",")):
            for c in map(float, args.capacity.split(",")):
                cap = max(w, 10, int(round(w * c)))
                sp = svs.VamanaSearchParameters(svs.SearchBufferConfig(w, cap), base.search_buffer_visited_set,
                                                base.prefetch_lookahead, base.prefetch_step)
                configs[(f"svs-{kind}-R{R}", (w, cap))] = (
                    (lambda index, sp: lambda: setattr(index, "search_parameters", sp))(index, sp),
                    (lambda index: lambda q: index.search(q[None], 10)[0][0])(index), Q)
times = {c: [] for c in configs}; recalls = {}
for c, (prep, one, qs) in configs.items():
    if prep: prep()
    timed_pass(one, qs[:100])
for r in range(args.rounds):
    for c, (prep, one, qs) in configs.items():
        if prep: prep()
        s, found = timed_pass(one, qs); times[c].append(s); recalls[c] = recall_of(found, T)
    print("round", r + 1, flush=True)
curves = {}
for c in configs:
    qps = len(Q) / statistics.median(times[c]); curves.setdefault(c[0], []).append((c[1], recalls[c], qps))
    print(f"{c[0]:>24} {str(c[1]):>10} recall={recalls[c]:.4f} qps={qps:8.0f}")
def frontier(points):
    best = []
    for r, q in sorted(points, key=lambda p: (-p[0], -p[1])):
        if not best or q > best[-1][1]: best.append((r, q))
    return best[::-1]
read = {}
for n_, pts in curves.items():
    line = frontier([(r, q) for _, r, q in pts]) if n_.startswith("svs") else [(r, q) for _, r, q in pts]
    read[n_] = {t: qps_at_recall(line, t) for t in (0.90, 0.95, 0.97)}
b = read["hnswlib"]
for n_, at in read.items():
    print(f"{n_:>24} " + "  ".join(f"{t}: {at[t]:.0f} ({at[t] / b[t]:.2f}x)" if at[t] and b[t] else f"{t}: -" for t in at))
