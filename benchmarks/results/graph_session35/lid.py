import sys, numpy as np, h5py, os
def lid_mle(train, metric, nq=1000, k=20, seed=0, sample=None):
    rng = np.random.default_rng(seed)
    X = train.astype(np.float32)
    if metric == "angular":
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    if sample is not None and sample < len(X):
        X = X[rng.choice(len(X), sample, replace=False)]
    qi = rng.choice(len(X), nq, replace=False)
    Q = X[qi]
    d = (Q**2).sum(1)[:, None] - 2 * Q @ X.T + (X**2).sum(1)[None, :]
    d[np.arange(nq), qi] = np.inf
    d = np.maximum(d, 1e-12)
    part = np.sort(np.partition(d, k, axis=1)[:, :k], axis=1)
    r = np.sqrt(part)
    lid = -1.0 / np.mean(np.log(r[:, :-1] / r[:, -1:]), axis=1)
    return float(np.median(lid)), float(np.mean(lid))
if __name__ == "__main__":
  for name in sys.argv[1:]:
    with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
        tr = f["train"][:]; m = f.attrs["distance"]
    print(name, tr.shape, "full", lid_mle(tr, m), flush=True)
