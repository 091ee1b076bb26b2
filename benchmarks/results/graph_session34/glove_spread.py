"""The rows and queries this folder's glove scripts share: glove6b-50's train rows and 10,000 test queries spread over
its stored order (vidx.datasets.spread_rows), read through vidx.datasets (the cache folder, $VIDX_DATA), and recall@10
of found ids against their true neighbours."""
import numpy as np
from vidx import datasets


def glove_spread(n_queries=10000):
    """(train rows, queries, their 10 true neighbours)."""
    data = datasets.load("glove6b-50-angular", download=False)
    rows = datasets.spread_rows(len(data.test), n_queries)
    return data.train, data.test[rows], data.neighbors[rows, :10]


def recall_at_10(found, truth):
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))
