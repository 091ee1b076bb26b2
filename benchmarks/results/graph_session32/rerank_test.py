import sys, time, h5py, numpy as np, statistics
sys.path.insert(0, sys.argv[1]); import vidx
ix = vidx.load(sys.argv[2]); ix.threads = 1
with h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5") as f:
    Q = f["test"][:].astype(np.float32); T = f["neighbors"][:, :10]
def rec(I): return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, T)])
confs = [(24, None), (24, 12), (24, 16), (24, 20), (24, 24), (22, None), (20, None)]
res = {c: [] for c in confs}
for r in range(5):
    for ef, rr in confs:
        t = time.perf_counter(); D, I = ix.search(Q, k=10, ef=ef, rerank=rr); res[(ef, rr)].append(time.perf_counter() - t)
for ef, rr in confs:
    D, I = ix.search(Q, k=10, ef=ef, rerank=rr)
    print(f"ef {ef} rerank {rr}: qps {len(Q)/statistics.median(res[(ef, rr)]):8.0f} recall {rec(I):.4f}")
