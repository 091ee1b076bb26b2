"""Batch (2-thread) A/B: alternating processes, each times its variant's batch search and hnswlib's batch
on the same queries; prints the median ratio vidx QPS / hnswlib QPS per process."""
import json, os, statistics, subprocess, sys, time
import numpy as np
DATA = os.path.expanduser("~/.cache/vidx/%s.hdf5")
def child(root, dataset, index, hn, ef, hef):
    sys.path.insert(0, root)
    import h5py, hnswlib, vidx
    with h5py.File(DATA % dataset) as f:
        nq = int(os.environ.get("NQ", "0")) or None; rows = np.arange(len(f["test"])) if nq is None else (np.arange(nq) * len(f["test"])) // nq; Q = f["test"][:][rows].astype(np.float32); truth = f["neighbors"][:][rows, :10]
        metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
    ix = vidx.load(index); ix.threads = 2
    p = hnswlib.Index("l2" if metric == "l2" else "cosine", Q.shape[1]); p.load_index(hn); p.set_num_threads(2); p.set_ef(hef)
    ix.search(Q, k=10, ef=ef); p.knn_query(Q, k=10)
    rs, qv = [], []
    for _ in range(9):
        t = time.perf_counter(); D, I = ix.search(Q, k=10, ef=ef); tv = time.perf_counter() - t
        t = time.perf_counter(); p.knn_query(Q, k=10); th = time.perf_counter() - t
        rs.append(th / tv); qv.append(len(Q) / tv)
    rec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, truth)])
    print(json.dumps({"ratio": statistics.median(rs), "qps": statistics.median(qv), "recall": rec}))
if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(*sys.argv[2:6], int(sys.argv[6]), int(sys.argv[7])); sys.exit()
    dataset, index, hn, ef, hef, variants, procs = sys.argv[1:8]
    out = {v: [] for v in variants.split(",")}
    for _ in range(int(procs)):
        for v in out:
            r = subprocess.run([sys.executable, __file__, "--child", "/tmp/ab/" + v, dataset, index, hn, ef, hef],
                               capture_output=True, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
            if r.returncode: sys.exit(r.stderr)
            d = json.loads(r.stdout.strip().splitlines()[-1]); out[v].append(d["ratio"]); print(v, d, flush=True)
    for v, rs in out.items():
        print(f"{v}: batch ratio to hnswlib {' '.join(f'{x:.2f}' for x in rs)}, median {statistics.median(rs):.2f}")
