import sys, numpy as np, vidx, tempfile, os
rng = np.random.default_rng(0)
c = rng.standard_normal((50, 32)).astype(np.float32) * 4
x = (c[rng.integers(0, 50, 20000)] + rng.standard_normal((20000, 32))).astype(np.float32)
q = (c[rng.integers(0, 50, 500)] + rng.standard_normal((500, 32))).astype(np.float32)
out = {}
for quant in ["none", "lvq4x8"]:
    d = tempfile.mkdtemp()
    idx = vidx.Index(32, "l2", kind="spann", path=os.path.join(d, "p"), seed=1, quant=quant)
    idx.add(x, progress=False)
    s0 = idx.stats()
    D, I = idx.search(q, 10)
    s1 = idx.stats()
    out[quant] = (I, {k: s1[k] - s0[k] for k in ("lists_read", "entries_scanned") if k in s1})
    print(quant, out[quant][1], int(I.sum()))
np.save(sys.argv[1], np.stack([out["none"][0], out["lvq4x8"][0]]))
