"""A flat index fed rows in order in adds, recall@10 and add times:
    [ROWS=390000] [STEP=10000] python3 flat_drift.py PACKAGE_FOLDER QUANT FEED
FEED: mixture (section 50's sorted Gaussian mixture) | glove | wordnet (the first ROWS rows in natural order, cosine,
1,000 spread test queries, exact ground truth), in adds of STEP rows; FEED_shuf: the same adds shuffled; FEED_one:
one shuffled add. The experiment build's VIDX_EXP_* switches (the "g=" tag) are not in the product."""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import h5py, numpy as np, vidx
quant, feed = sys.argv[2], sys.argv[3]
rng = np.random.default_rng(0)
if feed.startswith("mixture"):
    n, d, C = 24000, 32, 48
    centres = rng.standard_normal((C, d)).astype(np.float32) * 2 + np.linspace(-3, 3, C)[:, None].astype(np.float32)
    lab = np.sort(rng.integers(0, C, n))
    X = (centres[lab] + rng.standard_normal((n, d)).astype(np.float32)).astype(np.float32)
    Q = (centres[rng.integers(0, C, 300)] + rng.standard_normal((300, d)).astype(np.float32)).astype(np.float32)
    metric = "l2"
else:
    name = {"glove": "glove6b-50-angular", "wordnet": "wordnet-minilm-384-angular"}[feed.split("_")[0]]
    with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5"), "r") as f:
        X = np.asarray(f["train"][:int(os.environ.get("ROWS", 200000))], dtype=np.float32)
        T = np.asarray(f["test"], dtype=np.float32)
    Q = T[np.sort(np.random.default_rng(123).choice(len(T), 1000, replace=False))]
    metric = "cosine"
    X = X / np.linalg.norm(X, axis=1, keepdims=True); Q = Q / np.linalg.norm(Q, axis=1, keepdims=True)
if metric == "l2":
    d2 = ((Q[:, None, :].astype(np.float64) - X[None].astype(np.float64)) ** 2).sum(-1)
    G = np.argsort(d2, axis=1)[:, :10]
else:
    G = np.argsort(-(Q.astype(np.float64) @ X.astype(np.float64).T), axis=1)[:, :10]
def rec(I): return np.mean([len(set(I[i]) & set(G[i])) / 10 for i in range(len(G))])
n = len(X)
order = np.random.default_rng(7).permutation(n) if feed.endswith(("_shuf", "_one")) else np.arange(n)
step = n if feed.endswith("_one") else int(os.environ.get("STEP", 1000))
idx = vidx.Index(X.shape[1], metric, kind="flat", quant=quant, threads=2)
t = time.perf_counter(); worst = 0
for s in range(0, n, step):
    a = time.perf_counter(); idx.add(X[order[s:s + step]], ids=order[s:s + step]); worst = max(worst, time.perf_counter() - a)
tt = time.perf_counter() - t
print(f"{quant} {feed} rows {n} step {step} g={os.environ.get('VIDX_EXP_SIGN_GROWTH', '-')}: recall {rec(idx.search(Q, 10)[1]):.4f}  adds {tt:.2f}s worst add {worst:.3f}s", flush=True)
