"""SPANN no-regression A/B: one saved SPANN index (lvq8 postings), searched by two vidx builds in
alternating processes; each process times single-query calls and one batch call at fixed nprobe.
    python spann_ab.py build INDEX POSTINGS DATASET QUANT
    python spann_ab.py run INDEX DATASET VARIANTS NPROBE PROCS"""
import json, os, subprocess, sys, time
import h5py
import numpy as np

DATA = os.path.expanduser("~/.cache/vidx/%s.hdf5")

def queries(dataset, nq=1000):
    with h5py.File(DATA % dataset) as f:
        rows = (np.arange(nq) * len(f["test"])) // nq
        return f["test"][rows], f["neighbors"][rows, :10], f.attrs["distance"]

def build(index, postings, dataset, quant):
    sys.path.insert(0, "/tmp/ab/r33")
    import vidx
    with h5py.File(DATA % dataset) as f:
        X = f["train"][:]
        metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
    idx = vidx.Index(dim=X.shape[1], metric=metric, kind="spann", quant=quant, path=postings)
    t = time.perf_counter(); idx.add(X); print("build s", time.perf_counter() - t)
    idx.save(index)

def child(index, dataset, variant, nprobe):
    sys.path.insert(0, "/tmp/ab/" + variant)
    import vidx
    Q, truth, _ = queries(dataset)
    idx = vidx.load(index)
    idx.threads = 1
    idx.search(Q[:50], k=10, nprobe=nprobe)
    singles, batches = [], []
    for _ in range(3):
        t = time.perf_counter()
        found = np.vstack([idx.search(q[None], k=10, nprobe=nprobe)[1] for q in Q])
        singles.append(len(Q) / (time.perf_counter() - t))
    idx.threads = 2
    for _ in range(3):
        t = time.perf_counter(); _, I = idx.search(Q, k=10, nprobe=nprobe); batches.append(len(Q) / (time.perf_counter() - t))
    rec = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))
    print(json.dumps({"variant": variant, "single_qps": float(np.median(singles)), "batch_qps": float(np.median(batches)), "recall": rec}))

if __name__ == "__main__":
    if sys.argv[1] == "build": build(*sys.argv[2:6])
    elif sys.argv[1] == "child": child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        index, dataset, variants, nprobe, procs = sys.argv[2], sys.argv[3], sys.argv[4].split(","), sys.argv[5], int(sys.argv[6])
        res = {v: [] for v in variants}
        for p in range(procs):
            for v in variants:
                out = subprocess.run([sys.executable, __file__, "child", index, dataset, v, nprobe], capture_output=True, text=True)
                line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-500:]
                print(line, flush=True)
                try: res[v].append(json.loads(line))
                except Exception: pass
        for v in variants:
            s = [r["single_qps"] for r in res[v]]; b = [r["batch_qps"] for r in res[v]]
            print(v, "single median %.0f" % np.median(s), "batch median %.0f" % np.median(b), "runs", [round(x) for x in s], [round(x) for x in b])
