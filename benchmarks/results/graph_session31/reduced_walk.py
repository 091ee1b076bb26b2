import sys, time, numpy as np, h5py, statistics
sys.path.insert(0, "/tmp/ab/s31c")
import vidx
Xp = np.load("/tmp/s31/wn_p192_train.npy"); Qp = np.load("/tmp/s31/wn_p192_test.npy")
X = np.load("/tmp/s31/wn_unit_train.npy"); Q = np.load("/tmp/s31/wn_unit_test.npy")
T = h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5")["neighbors"][:1000, :10]
quant = sys.argv[1]
ix = vidx.Index(dim=192, metric="l2", quant=quant, M=16, ef_construction=200, seed=0); ix.threads = 2
t = time.perf_counter(); ix.add(Xp); print("build", round(time.perf_counter() - t, 2), "s", round(ix.memory_usage() / 2**20, 1), "MiB")
ix.threads = 1
full = vidx.load("/tmp/s31/wn_lvq4x4.vidx"); full.threads = 1
Qraw = h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5")["test"][:1000]
def rec(res): return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(res, T)])
for ef, cand in ((12, 20), (16, 20), (20, 20), (24, 20), (16, 30), (24, 30), (32, 30)):
    ts = []
    for _ in range(3):
        t = time.perf_counter()
        for q in Qp: ix.search(q, k=cand, ef=ef)
        ts.append(time.perf_counter() - t)
    I = ix.search(Qp, k=cand, ef=ef)[1]
    exact = np.take_along_axis(Q @ X.T, I, 1); res = np.take_along_axis(I, np.argsort(-exact, 1)[:, :10], 1)
    print(f"reduced {quant} ef {ef} cand {cand}: recall after exact re-rank {rec(res):.4f}, walk qps {1000 / statistics.median(ts):.0f}")
for ef in (20, 24):
    ts = []
    for _ in range(3):
        t = time.perf_counter()
        for q in Qraw: full.search(q, k=10, ef=ef)
        ts.append(time.perf_counter() - t)
    I = full.search(Qraw, k=10, ef=ef)[1]
    print(f"full lvq4x4 ef {ef}: recall {rec(I):.4f}, qps {1000 / statistics.median(ts):.0f}")
