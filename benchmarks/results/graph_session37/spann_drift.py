# More drift cases: shift, batch size, metric, and a save/load between the parts.
import numpy as np, vidx, tempfile, os
DIM = 16
def run(shift, part, metric, reload, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3000, DIM)).astype(np.float32)
    far = (rng.standard_normal((1500, DIM)) + shift).astype(np.float32)
    ids = np.arange(20000, 21500)
    tmp = tempfile.mkdtemp()
    idx = vidx.Index(DIM, metric, kind="spann", path=os.path.join(tmp, "p.post"), seed=1, threads=1, head_ratio=0.05)
    idx.add(x, progress=False)
    for a in range(0, 1500, part):
        idx.add(far[a:a + part], ids=ids[a:a + part])
        if reload and a == 700:
            idx.save(os.path.join(tmp, "i.spann")); del idx
            idx = vidx.load(os.path.join(tmp, "i.spann"))
    return np.mean(idx.search(far, 1)[1][:, 0] == ids)
for metric in ("l2", "cosine"):
    for shift in (3, 5, 10):
        for part in (20, 100, 1500):
            print(metric, shift, part, "%.4f" % run(shift, part, metric, False), "reload %.4f" % run(shift, part, metric, True) if part < 1500 else "", flush=True)
