"""Recall at equal ef of one-add HNSW builds, one package, the three sets in three orders.
python ab_sets.py OUT SEEDS   (run under PYTHONPATH=<package copy>:/work/main/benchmarks)"""
import json
import sys
import time

import numpy as np

EFS = [10, 16, 24, 32, 48]


def one_add_builds(out, seeds, quant=None, label=None):
    """Appends a JSON line to `out` for each set, order and seed; quant None: the default codec;
    label: the package's name, stored with the codec in each line when given (section 56)."""
    import vidx
    from head_to_head import ORDERS
    from vidx import datasets
    options = {} if quant is None else {"quant": quant}
    for name in ("wordnet-minilm-384-angular", "fashion-mnist-784-euclidean", "glove6b-50-angular"):
        data = datasets.load(name)
        truth = data.neighbors[:, :10]
        for order_name in ("natural", "sorted", "shuffled"):
            order = ORDERS[order_name](data.train).astype(np.int64)
            train = np.ascontiguousarray(data.train[order])
            for seed in seeds:
                t0 = time.time()
                idx = vidx.Index(train.shape[1], data.vidx_metric, M=16, ef_construction=200, seed=seed, threads=2,
                                 **options)
                idx.add(train, ids=order, progress=False)
                b = time.time() - t0
                rec = []
                for ef in EFS:
                    _, I = idx.search(data.test, 10, ef=ef)
                    rec.append(float(np.mean([len(set(f) & set(t)) for f, t in zip(I, truth)]) / 10))
                line = dict(set=name, order=order_name, seed=seed, build=round(b, 2), recall=dict(zip(EFS, rec)))
                if label is not None:
                    line = dict(pkg=label, quant=quant, **line)
                print(json.dumps(line), flush=True)
                open(out, "a").write(json.dumps(line) + "\n")


if __name__ == "__main__":
    one_add_builds(sys.argv[1], [int(s) for s in sys.argv[2].split(",")])
