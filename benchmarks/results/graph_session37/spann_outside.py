import numpy as np, vidx, tempfile, os, sys
rng = np.random.default_rng(3); DIM=16
x = rng.standard_normal((3000, DIM)).astype(np.float32)
far = (rng.standard_normal((1500, DIM)) + 5).astype(np.float32)
ids = np.arange(20000, 21500)
tmp = tempfile.mkdtemp()
for hr in (None, 0.05):
    opts = dict(seed=1, threads=1) | ({"head_ratio": hr} if hr else {})
    once = vidx.Index(DIM, kind="spann", path=os.path.join(tmp, f"o{hr}.post"), **opts)
    parts = vidx.Index(DIM, kind="spann", path=os.path.join(tmp, f"p{hr}.post"), **opts)
    once.add(x, progress=False); parts.add(x, progress=False)
    once.add(far, ids=ids)
    for a in range(0, 1500, 100): parts.add(far[a:a+100], ids=ids[a:a+100])
    for name, idx in (("once", once), ("parts", parts)):
        f = idx.search(far, 1)[1][:, 0] == ids
        print(hr, name, "heads", idx.heads, "splits", idx.stats()["live_splits"], "found", f.mean())
    for kw in (dict(eps=float("inf")), dict(nprobe=1000), dict(nprobe=1000, eps=float("inf"))):
        print("   ", kw, [float(np.mean(i.search(far, 1, **kw)[1][:, 0] == ids)) for i in (once, parts)])
