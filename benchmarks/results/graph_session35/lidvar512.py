"""The median LID estimate (k = 20, duplicates skipped, as hnsw_degree.cpp) from 512 sampled rows, eight seeds."""
import numpy as np, h5py, os, sys
K = 20
def row_estimates(X, rows):
    D = (X[rows] ** 2).sum(1)[:, None] - 2 * X[rows] @ X.T + (X ** 2).sum(1)[None, :]
    D[np.arange(len(rows)), rows] = np.inf
    D[D <= 1e-12] = np.inf
    near = np.sort(np.partition(D, K, axis=1)[:, :K], axis=1)
    return -1.0 / np.mean(0.5 * np.log(near[:, :-1] / near[:, -1:]), axis=1)
for name in sys.argv[1:]:
    with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
        X = f["train"][:].astype(np.float32); m = f.attrs["distance"]
    if m == "angular": X /= np.linalg.norm(X, axis=1, keepdims=True)
    vals = []
    for s in range(8):
        picked = np.random.default_rng(s).choice(len(X), 512, replace=False)
        vals.append(float(np.median(np.concatenate([row_estimates(X, picked[b:b + 128]) for b in range(0, 512, 128)]))))
    print(name, " ".join(f"{v:.1f}" for v in vals), f"range {min(vals):.1f}-{max(vals):.1f}", flush=True)
