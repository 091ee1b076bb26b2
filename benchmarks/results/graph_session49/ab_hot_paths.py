"""A/B of two vidx package copies on the paths session 49 touched: the graph beam's growing room
(CandidateBuffer::make_room, every walk), the LVQ-8 integer terms summed in chunks (lvq_u8_terms:
lvq8x8 walks, and the float32 build's LVQ-8 walks), and search()'s re-search check (one branch a
query). Each measurement runs in its own process, variants alternating; medians are reported.

    python ab_hot_paths.py /tmp/ab49/main /tmp/ab49/new [rows] [rounds]

Data: glove6b-50-angular's first `rows` training rows (default 100,000) in stored order, its
first 1,000 test queries. Builds: default quant (f32_split), M=16, ef_construction=200, 2 threads.
Searches: single thread, one query a call, ef 64, of a saved f32_split index and a saved lvq8x8
index (both built by the variant itself); 2-thread batch of all 1,000 queries, ef 64."""
import json, os, subprocess, sys, time
import numpy as np

DATA = os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5")


def child(pkg, mode, rows, quant):
    sys.path.insert(0, pkg)
    import h5py, vidx
    with h5py.File(DATA) as f:
        train = f["train"][:rows]
        test = f["test"][:1000]
    path = os.path.join(pkg, f"ab-{quant}.vidx")
    if mode == "build":
        idx = vidx.Index(50, "cosine", quant=quant, M=16, ef_construction=200, threads=2)
        t = time.perf_counter(); idx.add(train); dt = time.perf_counter() - t
        idx.save(path)
        return {"build_s": dt}
    idx = vidx.load(path)
    idx.threads = 1
    idx.search(test[:50], k=10, ef=64)
    t = time.perf_counter()
    for q in test:
        idx.search(q, k=10, ef=64)
    single = len(test) / (time.perf_counter() - t)
    idx.threads = 2
    t = time.perf_counter()
    for _ in range(3):
        idx.search(test, k=10, ef=64)
    batch = 3 * len(test) / (time.perf_counter() - t)
    return {"single_qps": single, "batch_qps": batch}


if __name__ == "__main__" and sys.argv[1] == "child":
    print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])))
    sys.exit()

main_pkg, new_pkg = sys.argv[1], sys.argv[2]
rows = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3


def run(pkg, mode, quant):
    r = subprocess.run([sys.executable, __file__, "child", pkg, mode, str(rows), quant], capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


results = {v: {"build": [], "f32_split": [], "lvq8x8": []} for v in ("main", "new")}
pkgs = {"main": main_pkg, "new": new_pkg}
for r in range(rounds):
    for v in (("main", "new") if r % 2 == 0 else ("new", "main")):
        results[v]["build"].append(run(pkgs[v], "build", "f32_split")["build_s"])
        if r == 0:
            run(pkgs[v], "build", "lvq8x8")
        print(v, "build", round(results[v]["build"][-1], 2), flush=True)
for r in range(rounds):
    for v in (("main", "new") if r % 2 == 0 else ("new", "main")):
        for quant in ("f32_split", "lvq8x8"):
            results[v][quant].append(run(pkgs[v], "search", quant))
        print(v, "search", results[v]["f32_split"][-1], results[v]["lvq8x8"][-1], flush=True)
med = lambda xs: float(np.median(xs))
print(f"build s (2 threads, {rows} rows): main {med(results['main']['build']):.2f}, new {med(results['new']['build']):.2f}, "
      f"new/main {med(results['new']['build']) / med(results['main']['build']):.3f}")
for quant in ("f32_split", "lvq8x8"):
    for key in ("single_qps", "batch_qps"):
        m = med([x[key] for x in results["main"][quant]]); n = med([x[key] for x in results["new"][quant]])
        print(f"{quant} {key}: main {m:.0f}, new {n:.0f}, new/main {n / m:.3f}")
json.dump(results, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ab_hot_paths.json"), "w"), indent=1)
