"""A/B of two vidx builds: HNSW float32 single-thread QPS at recall@10 0.90/0.95/0.99 and 2-thread build.

    mkdir -p /tmp/ab/main /tmp/ab/new
    cp -r <old checkout>/python/vidx /tmp/ab/main/   # with its built _core*.so inside
    cp -r <new checkout>/python/vidx /tmp/ab/new/
    python benchmarks/ab_hnsw.py DATASET EFS ROUNDS QUERIES   # e.g. fashion-mnist-784-euclidean 10,12,16,24,32 5 1000

Each variant runs in its own process (its own vidx package copy, so both can be loaded from one
script); each builds once (M=16, efC=200, 2 threads, rows in the file's natural order), then the
search rounds alternate the variants. Per round the best QPS among the efs reaching the target
recall; the median over rounds is reported. Writes /tmp/ab/ab_DATASET.json."""
import json, os, subprocess, sys, time
import numpy as np
DATA = os.path.expanduser("~/.cache/vidx/%s.hdf5")
def child(variant, dataset, mode, efs, nq):
    sys.path.insert(0, f"/tmp/ab/{variant}")
    import vidx, h5py
    with h5py.File(DATA % dataset) as f:
        metric = "l2" if f.attrs["distance"] == "euclidean" else "cosine"
        # nq queries spread over the stored order, as vidx.datasets.spread_rows picks them (inlined:
        # a variant may be a package from before it existed)
        rows = (np.arange(nq) * len(f["test"])) // nq if nq < len(f["test"]) else np.arange(len(f["test"]))
        train = f["train"][:]; test = f["test"][rows]; truth = f["neighbors"][rows, :10]
    path = f"/tmp/ab/{variant}-{dataset}.vidx"
    if mode == "build":
        idx = vidx.Index(train.shape[1], metric=metric, M=16, ef_construction=200, threads=2)
        t = time.perf_counter(); idx.add(train); dt = time.perf_counter() - t
        idx.save(path); print(json.dumps({"build_s": dt})); return
    idx = vidx.load(path); idx.threads = 1
    out = []
    for ef in efs:
        found = np.empty((nq, 10), np.int64)
        idx.search(test[:50], k=10, ef=ef)  # warm
        t = time.perf_counter()
        for i in range(nq):
            found[i] = idx.search(test[i], k=10, ef=ef)[1][0]
        dt = time.perf_counter() - t
        rec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])
        out.append({"ef": ef, "recall": float(rec), "qps": nq / dt})
    print(json.dumps(out))
if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "child":
    child(sys.argv[2], sys.argv[3], sys.argv[4], [int(e) for e in sys.argv[5].split(",")], int(sys.argv[6])); sys.exit()
dataset, efs, rounds, nq = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def run(v, mode):
    r = subprocess.run([sys.executable, __file__, "child", v, dataset, mode, efs, str(nq)], capture_output=True, text=True)
    if r.returncode: print(r.stderr); raise SystemExit(1)
    return json.loads(r.stdout.strip().splitlines()[-1])
res = {"main": {"build": [], "search": []}, "new": {"build": [], "search": []}}
for v in ("main", "new"):
    res[v]["build"].append(run(v, "build")["build_s"]); print(v, "build", res[v]["build"][-1], flush=True)
for r in range(rounds):
    for v in (("main", "new") if r % 2 == 0 else ("new", "main")):
        res[v]["search"].append(run(v, "search")); print(v, "round", r, flush=True)
def best_at(rows_by_round, target):
    # per round: the highest QPS among efs whose recall >= target; then the median over rounds
    per = []
    for rows in rows_by_round:
        ok = [x["qps"] for x in rows if x["recall"] >= target]
        per.append(max(ok) if ok else float("nan"))
    return float(np.median(per)), per
summary = {}
for t in (0.90, 0.95, 0.99):
    m, mp = best_at(res["main"]["search"], t); n, np_ = best_at(res["new"]["search"], t)
    summary[t] = {"main_qps": m, "new_qps": n, "ratio": n / m}
    print(f"recall>={t}: main {m:.0f} qps, new {n:.0f} qps, new/main {n/m:.3f}  (rounds main {['%.0f'%x for x in mp]}, new {['%.0f'%x for x in np_]})")
for v in ("main", "new"):
    print(v, "recall by ef (round 0):", [(x["ef"], round(x["recall"], 4)) for x in res[v]["search"][0]])
print("build s: main %.1f new %.1f ratio %.3f" % (res["main"]["build"][0], res["new"]["build"][0], res["new"]["build"][0] / res["main"]["build"][0]))
json.dump({"dataset": dataset, "results": res, "summary": summary}, open(f"/tmp/ab/ab_{dataset}.json", "w"), indent=1)
