import sys, time, h5py, numpy as np, statistics
sys.path.insert(0, sys.argv[1])
import vidx
ix = vidx.load(sys.argv[2]); ix.threads = int(sys.argv[5])
name = sys.argv[4]; ef = int(sys.argv[3])
with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f:
    Q = f["test"][:].astype(np.float32); truth = f["neighbors"][:, :10]; train = f["train"][:]
rng = np.random.default_rng(0)
orders = {"given": np.arange(len(Q)), "random": rng.permutation(len(Q))}
# sorted by a k-means label of the queries (64 clusters), by the nearest train row's id, and a greedy chain
from scipy.cluster.vq import kmeans2
Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
_, lab = kmeans2(Qn, 64, seed=0, minit="++")
orders["kmeans64"] = np.argsort(lab, kind="stable")
orders["nn_id"] = np.argsort(truth[:, 0], kind="stable")
def recall(I, order):
    t = truth[order]
    return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, t)])
res = {k: [] for k in orders}
for k, o in orders.items(): ix.search(Q[o], k=10, ef=ef)
for r in range(7):
    for k, o in orders.items():
        q = np.ascontiguousarray(Q[o])
        t = time.perf_counter(); D, I = ix.search(q, k=10, ef=ef); res[k].append(time.perf_counter() - t)
for k, o in orders.items():
    D, I = ix.search(np.ascontiguousarray(Q[o]), k=10, ef=ef)
    print(f"{k:10s} qps {len(Q)/statistics.median(res[k]):8.0f}  recall {recall(I, o):.4f}")
