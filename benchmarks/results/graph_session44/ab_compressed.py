"""A/B of two vidx packages (/tmp/ab/main, /tmp/ab/new) on one compressed HNSW: build once each (2 threads),
then alternate single-thread one-query-per-call rounds; per round QPS at recall 0.90/0.95 interpolated over efs."""
import json, os, subprocess, sys, time
import numpy as np
DATA = os.path.expanduser("~/.cache/vidx/%s.hdf5")
def child(variant, dataset, quant, M, mode, efs, nq):
    sys.path.insert(0, f"/tmp/ab/{variant}")
    import vidx, h5py
    with h5py.File(DATA % dataset) as f:
        metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
        rows = (np.arange(nq) * len(f["test"])) // nq
        train = f["train"][:]; test = f["test"][rows]; truth = f["neighbors"][rows, :10]
    path = f"/tmp/ab/{variant}-{dataset}-{quant}-{M}.vidx"
    if mode == "build":
        idx = vidx.Index(train.shape[1], metric=metric, M=M, quant=quant, threads=2)
        t = time.perf_counter(); idx.add(train, progress=False); dt = time.perf_counter() - t
        idx.save(path); print(json.dumps({"build_s": dt})); return
    idx = vidx.load(path); idx.threads = 1
    out = []
    for ef in efs:
        found = np.empty((nq, 10), np.int64)
        idx.search(test[:50], k=10, ef=ef)
        t = time.perf_counter()
        for i in range(nq):
            found[i] = idx.search(test[i], k=10, ef=ef)[1][0]
        dt = time.perf_counter() - t
        out.append({"ef": ef, "recall": float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])), "qps": nq / dt})
    print(json.dumps(out))
def at(points, target):
    pts = sorted(points, key=lambda p: p["recall"])
    for a, b in zip(pts, pts[1:]):
        if a["recall"] <= target <= b["recall"]:
            w = (target - a["recall"]) / max(b["recall"] - a["recall"], 1e-9)
            return a["qps"] * (1 - w) + b["qps"] * w
    return float("nan")
if __name__ == "__main__":
    if sys.argv[1] == "child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6], [int(e) for e in sys.argv[7].split(",")], int(sys.argv[8])); sys.exit()
    dataset, quant, M, efs, rounds, nq = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
    run = lambda v, mode: json.loads(subprocess.check_output([sys.executable, __file__, "child", v, dataset, quant, M, mode, efs, nq]).decode().strip().splitlines()[-1])
    for v in ("main", "new"):
        print(v, "build", run(v, "build"), flush=True)
    res = {"main": [], "new": []}
    for r in range(rounds):
        for v in (("main", "new") if r % 2 == 0 else ("new", "main")):
            pts = run(v, "search"); res[v].append(pts)
            print(v, r, " ".join(f"ef{p['ef']}:{p['recall']:.4f}/{p['qps']:.0f}" for p in pts), flush=True)
    for target in (0.90, 0.95):
        med = {v: float(np.median([at(p, target) for p in res[v]])) for v in res}
        print(f"recall {target}: main {med['main']:.0f} new {med['new']:.0f} QPS, new/main {med['new']/med['main']:.3f}")
