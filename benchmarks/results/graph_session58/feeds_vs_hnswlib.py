"""vidx HNSW (defaults, f32_split) and hnswlib (M=16, ef_construction=200) fed glove6b-50's 390,000 rows (cosine)
four ways: natural order in adds of STEP rows ("adds"), shuffled rows in adds of STEP ("shuffled_adds"),
natural order in one add ("natural"), one shuffled add ("shuffled"). Recall@10 at ef
16 / 32 / 64 on 1,000 spread test queries (exact ground truth of the file):
    [STEP=10000] python3 feeds_vs_hnswlib.py PKG LIB(vidx|hnswlib) FEED(adds|shuffled_adds|natural|shuffled)"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
import h5py, numpy as np
lib, feed = sys.argv[2], sys.argv[3]
step = int(os.environ.get("STEP", 10000))
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
    X = np.asarray(f["train"], dtype=np.float32); T = np.asarray(f["test"], dtype=np.float32)
    NB = np.asarray(f["neighbors"][:, :10])
sel = np.sort(np.random.default_rng(123).choice(len(T), 1000, replace=False))
Q, G = T[sel], NB[sel]
rec = lambda I: np.mean([len(set(I[i]) & set(G[i])) / 10 for i in range(len(G))])
N = len(X)
perm = np.random.default_rng(1000).permutation(N) if feed.startswith("shuffled") else np.arange(N)
if not feed.endswith("adds"): step = N
quant = os.environ.get("QUANT", "f32_split")
if lib == "vidx":
    import vidx
    idx = vidx.Index(50, "cosine", kind="hnsw", quant=quant, seed=0, threads=2)
    add = lambda rows, ids: idx.add(rows, ids=ids)
    search = lambda ef: idx.search(Q, 10, ef=ef)[1]
else:
    import hnswlib
    idx = hnswlib.Index(space="cosine", dim=50); idx.init_index(N, M=16, ef_construction=200, random_seed=0)
    idx.set_num_threads(2)
    add = lambda rows, ids: idx.add_items(rows, ids)
    def search(ef):
        idx.set_ef(ef); return idx.knn_query(Q, 10)[0]
t = time.perf_counter(); worst = (0.0, 0); widened = "-"
for s in range(0, N, step):
    a = time.perf_counter(); add(X[perm[s:s + step]], perm[s:s + step]); a = time.perf_counter() - a
    worst = max(worst, (a, s + step))
    if lib == "vidx" and widened == "-" and idx.params["M"] > 16: widened = f"{s + step:,}"
build = time.perf_counter() - t
M = idx.params["M"] if lib == "vidx" else 16
print(f"{lib} {quant if lib == 'vidx' else ''} {os.environ.get('TAG', '')} {feed} step {step} M {M}: " + " / ".join(f"{rec(search(ef)):.4f}" for ef in (16, 32, 64)) + f" (build {build:.1f}s, slowest add {worst[0]:.1f}s at {worst[1]:,} rows, M>16 from {widened})", flush=True)
