"""How much nearer consecutive rows are than random pairs, for each set and row order."""
import sys, h5py, numpy as np
sys.path.insert(0, "/work/main/benchmarks")
from head_to_head import by_cluster
rng = np.random.default_rng(0)
def ratio(X, cosine):
    if cosine: X = X / np.linalg.norm(X, axis=1, keepdims=True)
    n = len(X); i = rng.integers(0, n - 1, 2000); j = rng.integers(0, n, 2000)
    cons = ((X[i] - X[i + 1]) ** 2).sum(1); rand = ((X[i] - X[j]) ** 2).sum(1)
    return float(np.median(cons) / np.median(rand)), float(np.mean(cons) / np.mean(rand))
for name in ("glove6b-50-angular", "wordnet-minilm-384-angular", "fashion-mnist-784-euclidean"):
    with h5py.File(f"/root/.cache/vidx/{name}.hdf5") as f: X = f["train"][:]
    cos = "angular" in name
    print(name, "natural %.3f/%.3f" % ratio(X, cos), "sorted %.3f/%.3f" % ratio(X[by_cluster(X)], cos), "shuffled %.3f/%.3f" % ratio(X[rng.permutation(len(X))], cos), flush=True)
# tight synthetic clusters sorted by cluster (section 9's case): 400 clusters, 8000 rows
c = rng.standard_normal((400, 32)).astype(np.float32) * 3
lab = np.sort(rng.integers(0, 400, 8000)); X = c[lab] + 0.3 * rng.standard_normal((8000, 32)).astype(np.float32)
print("tight clusters sorted %.3f/%.3f" % ratio(X, False))
c = rng.standard_normal((300, 128)).astype(np.float32) * 3
lab = np.sort(rng.integers(0, 300, 90000)); X = c[lab] + rng.standard_normal((90000, 128)).astype(np.float32)
print("mixture sqrt(n) clusters sorted (default_quant.py shape) %.3f/%.3f" % ratio(X, False))
