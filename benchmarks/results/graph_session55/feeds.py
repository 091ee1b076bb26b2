"""Recall of HNSW fed real chunked documents (man pages, MiniLM) in several orders, vidx and hnswlib.

python feeds.py FILE FEED [SEED]   FEED: one_natural, one_shuffled, adds2000_natural, adds2000_shuffled,
per_document, per_document_shuffled_docs, sorted_kmeans, hnswlib_natural, hnswlib_shuffled
"""
import sys, time
import h5py, numpy as np

path, feed = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
N = int(sys.argv[4]) if len(sys.argv) > 4 else 0
with h5py.File(path, "r") as f:
    x = f["train"][:]; q = f["test"][:]; doc = f["documents"][:]
    gt = f["neighbors"][:, :10]
if N:
    x, doc = x[:N], doc[:N]
    # exact ground truth on the prefix
    s = q @ x.T
    gt = np.argsort(-s, axis=1)[:, :10]
rng = np.random.default_rng(seed)
n = len(x)
M, EFC = 16, 200
EFS = [10, 20, 40, 80]
phases = set()
prog = lambda phase, done, total: phases.add(phase)

def batches():
    if feed in ("one_natural", "hnswlib_natural"):
        return [np.arange(n)]
    if feed in ("one_shuffled", "hnswlib_shuffled"):
        return [rng.permutation(n)]
    if feed == "adds2000_natural":
        return np.array_split(np.arange(n), max(1, n // 2000))
    if feed == "adds2000_shuffled":
        return np.array_split(rng.permutation(n), max(1, n // 2000))
    if feed == "adds10000_natural":
        return np.array_split(np.arange(n), max(1, n // 10000))
    if feed == "adds10000_shuffled":
        return np.array_split(rng.permutation(n), max(1, n // 10000))
    if feed == "adds200_natural":
        return np.array_split(np.arange(n), max(1, n // 200))
    if feed in ("per_document", "hnswlib_per_document"):
        cuts = np.flatnonzero(np.diff(doc)) + 1
        return np.split(np.arange(n), cuts)
    if feed == "per_document_shuffled_rows":
        cuts = np.flatnonzero(np.diff(doc)) + 1
        perm = rng.permutation(n)
        return np.split(perm, cuts)
    raise SystemExit("feed?")

order = batches()
t0 = time.time()
if feed.startswith("hnswlib"):
    import hnswlib
    idx = hnswlib.Index(space="cosine", dim=x.shape[1])
    idx.init_index(max_elements=n, M=M, ef_construction=EFC, random_seed=seed)
    idx.set_num_threads(2)
    for b in order:
        idx.add_items(x[b], b)
    build = time.time() - t0
    res = []
    for ef in EFS:
        idx.set_ef(ef)
        I, _ = idx.knn_query(q, k=10)
        res.append(np.mean([len(set(I[i]) & set(gt[i])) for i in range(len(q))]) / 10)
else:
    import vidx
    import os
    quant = os.environ.get("QUANT", "f32")
    idx = vidx.Index(x.shape[1], metric="cosine", quant=quant, M=M, ef_construction=EFC, seed=seed, threads=2)
    for b in order:
        idx.add(x[b], ids=b.astype(np.int64), progress=prog)
    build = time.time() - t0
    res = []
    for ef in EFS:
        _, I = idx.search(q, 10, ef=ef)
        res.append(np.mean([len(set(I[i]) & set(gt[i])) for i in range(len(q))]) / 10)
import os
print(f"{os.environ.get('QUANT','f32'):7s} {feed:28s} seed {seed} n {n} adds {len(order):5d} build {build:6.1f}s phases {sorted(phases)} "
      + " ".join(f"ef{e} {r:.4f}" for e, r in zip(EFS, res)), flush=True)
