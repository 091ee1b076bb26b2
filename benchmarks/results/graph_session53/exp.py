import os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__)); sys.path[:0] = [os.path.join(HERE, "..", "..", "..", "tests"), os.path.join(HERE, "..", "graph_session52")]
import numpy as np, vidx
from conftest import brute_force, recall
from feeds import documents, tight_clusters, mixture
which = sys.argv[1:] or ["docs", "tight", "mix"]
seeds = tuple(int(s) for s in os.environ.get("SEEDS", "0,1").split(","))  # SEEDS=2,3,4,5: more seeds (section 55)
def feed(x, step, order=None, **kw):
    rs = []; ts = []
    for seed in seeds:
        idx = vidx.Index(x.shape[1], "l2", seed=seed, threads=2, **kw)
        t = time.perf_counter()
        o = np.arange(len(x)) if order is None else order
        for s in range(0, len(x), step): idx.add(x[o[s:s+step]], ids=o[s:s+step], progress=False)
        ts.append(time.perf_counter() - t); yield idx
    feed.time = np.mean(ts)
for w in which:
    if w.startswith("docs"):
        spread = 0.2 if w == "docs2" else 0.1
        x, lab, q, ql, c = documents(spread); _, gt = brute_force(x, q, 10, "l2"); efs = [10, 20, 40]
        for name, order in (("doc", None),) + ((("shuf", np.random.default_rng(2).permutation(len(x))),) if os.environ.get("SHUF") else ()):
            r = np.mean([[recall(i.search(q, 10, ef=e)[1], gt) for e in efs] for i in feed(x, 2000, order, M=16)], 0)
            print(f"{w} {name} build {feed.time:.2f}s", " ".join(f"ef{e} {v:.4f}" for e, v in zip(efs, r)), flush=True)
    if w == "tight":
        x, lab, q, ql, c = tight_clusters(); _, gt = brute_force(x, q, 10, "l2"); o = np.argsort(lab, kind="stable")
        for kw, efs in ((dict(M=12, ef_construction=64), [10, 32]), (dict(), [10])):
            r = np.mean([[recall(i.search(q, 10, ef=e)[1], gt) for e in efs] for i in feed(x, 400, o, **kw)], 0)
            print(f"tight {kw} build {feed.time:.2f}s", " ".join(f"ef{e} {v:.4f}" for e, v in zip(efs, r)), flush=True)
    if w == "mix":
        x, q = mixture(); _, gt = brute_force(x, q, 10, "l2")
        for step in (1000, 4000):
            r = np.mean([[recall(i.search(q, 10, ef=e)[1], gt) for e in (16,)] for i in feed(x, step)], 0)
            print(f"mix adds {step} build {feed.time:.2f}s ef16 {r[0]:.4f}", flush=True)
