"""What this folder's scripts share: glove6b-50's first rows in their natural order, test queries,
their exact cosine neighbours among those rows, and recall@10 against them."""
import numpy as np
from vidx import datasets


def glove_prefix(rows, queries):
    """(X, Q, truth): the first `rows` train rows, the first `queries` test rows, and each query's
    10 nearest rows by cosine (brute force, float32)."""
    d = datasets.load("glove6b-50-angular")
    X = np.asarray(d.train, np.float32)[:rows]
    Q = np.asarray(d.test, np.float32)[:queries]
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    return X, Q, np.argsort(-(Qn @ Xn.T), axis=1)[:, :10]


def recall_at_10(found, truth):
    return float(np.mean([len(set(a) & set(t)) / 10 for a, t in zip(found.tolist(), truth.tolist())]))
