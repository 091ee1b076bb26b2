# How long the add that relearns takes when the index holds the most rows a relearning re-encodes.
# glove6b-50 (cosine): first add 40,000 rows, then 279,000 (no relearning: 319,000 < 8 x 40,000), then 1,000 rows
# (relearns: re-encodes 319,000 stored rows), then 1,000 more (an ordinary add).
import os, sys, time
import h5py, numpy as np, vidx
with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5")) as f:
    X = np.asarray(f["train"][:321000], dtype=np.float32)
X = X[np.random.default_rng(0).permutation(len(X))]
X = np.concatenate([X[np.argsort(-X[:, 0])[:40000]], X[np.argsort(-X[:, 0])[40000:]][np.random.default_rng(1).permutation(len(X) - 40000)]])  # a first add from one side of the data: the relearning pays
for kind, quant in [("flat", "lvq8"), ("hnsw", "rabitq")]:
    idx = vidx.Index(50, "cosine", kind=kind, quant=quant, threads=2)
    idx.add(X[:40000]); idx.add(X[40000:319000])
    t = time.perf_counter(); idx.add(X[319000:320000]); relearn = time.perf_counter() - t
    t = time.perf_counter(); idx.add(X[320000:321000]); plain = time.perf_counter() - t
    print(f"{kind} {quant}: the add that relearns (319,000 rows stored) {relearn:.2f} s, the next add of 1,000 {plain:.3f} s", flush=True)
