import numpy as np, h5py, os, sys
def per_query(X, qi, k):
    Q = X[qi]
    d = (Q**2).sum(1)[:, None] - 2 * Q @ X.T + (X**2).sum(1)[None, :]
    d[np.arange(len(qi)), qi] = np.inf
    d[d <= 1e-12] = np.inf
    part = np.sort(np.partition(d, k, axis=1)[:, :k], axis=1)
    return -1.0 / np.mean(0.5 * np.log(part[:, :-1] / part[:, -1:]), axis=1)
for name in sys.argv[1:]:
    with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
        X = f["train"][:].astype(np.float32); m = f.attrs["distance"]
    if m == "angular": X /= np.linalg.norm(X, axis=1, keepdims=True)
    res = {}
    for s in range(8):
        qi = np.random.default_rng(s).choice(len(X), 128, replace=False)
        for k in (10, 20, 40):
            li = per_query(X, qi, k)
            res.setdefault(("med", k), []).append(np.median(li))
            res.setdefault(("inv", k), []).append(1 / np.mean(1 / li))
    print(name, "  ".join(f"{a}{k}: {np.mean(v):.1f}±{np.std(v):.2f}" for (a, k), v in sorted(res.items())), flush=True)
