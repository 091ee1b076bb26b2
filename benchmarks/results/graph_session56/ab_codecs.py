"""Recall at equal ef of one-add HNSW builds of one codec, the three ann-benchmarks sets in three orders.
python ab_codecs.py OUT QUANT SEED   (PYTHONPATH=<package copy>:/work/main/benchmarks)"""
import sys, time, json, os
import numpy as np
import vidx
from vidx import datasets
from head_to_head import ORDERS
out, quant, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
EFS = [10, 16, 24, 32, 48]
for name in ("wordnet-minilm-384-angular", "fashion-mnist-784-euclidean", "glove6b-50-angular"):
    data = datasets.load(name)
    truth = data.neighbors[:, :10]
    for order_name in ("natural", "sorted", "shuffled"):
        order = ORDERS[order_name](data.train).astype(np.int64)
        train = np.ascontiguousarray(data.train[order])
        t0 = time.time()
        idx = vidx.Index(train.shape[1], data.vidx_metric, quant=quant, M=16, ef_construction=200, seed=seed, threads=2)
        idx.add(train, ids=order, progress=False)
        b = time.time() - t0
        rec = []
        for ef in EFS:
            _, I = idx.search(data.test, 10, ef=ef)
            rec.append(float(np.mean([len(set(f) & set(t)) for f, t in zip(I, truth)]) / 10))
        line = dict(pkg=os.environ.get("PKG"), quant=quant, set=name, order=order_name, seed=seed, build=round(b, 2),
                    recall=dict(zip(EFS, rec)))
        print(json.dumps(line), flush=True)
        open(out, "a").write(json.dumps(line) + "\n")
