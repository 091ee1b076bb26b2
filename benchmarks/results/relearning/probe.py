"""Recall@10 of flat and HNSW indexes whose codec gets a poor first add (codec/relearning.hpp).

The first 50,000 rows of a cached ann-benchmarks set (natural order), 1,000 of its test queries
drawn with seed 0, exact ground truth by brute force, and 100 k-means clusters for the orders.
Feeds: one add of the shuffled rows ("one"); one row, then the rest ("row1"); 1,000 rows of the
largest cluster, then the rest ("cluster1000"); adds of 1,000 shuffled rows ("adds1000") or of
1,000 rows sorted by cluster ("sorted1000"). HNSW searches at ef 64, flat with its defaults.

    PYTHONPATH=<package> python3 probe.py glove|wordnet flat|hnsw binary,rabitq,lvq4 [feeds]
"""
import json
import os
import sys
import time

import h5py
import numpy as np

import vidx

FILES = {"glove": "glove6b-50-angular.hdf5", "wordnet": "wordnet-minilm-384-angular.hdf5"}


def load(name, n=50000, queries=1000):
    with h5py.File(os.path.expanduser("~/.cache/vidx/" + FILES[name])) as f:
        x = np.asarray(f["train"][:n], dtype=np.float32)
        test = np.asarray(f["test"][:], dtype=np.float32)
    q = test[np.sort(np.random.default_rng(0).choice(len(test), queries, replace=False))]
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    truth = np.argsort(-(qn @ xn.T), axis=1)[:, :10]
    labels = np.asarray(vidx.kmeans(xn, 100, iters=15, seed=1, threads=2).assignment)
    return x, q, truth, labels


def recall(found, truth):
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))


def main():
    name, kind, quants = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    feeds = sys.argv[4].split(",") if len(sys.argv) > 4 else ["one", "row1", "cluster1000", "adds1000", "sorted1000"]
    x, q, truth, labels = load(name)
    shuffled = np.random.default_rng(0).permutation(len(x))
    by_cluster = np.argsort(labels, kind="stable")
    cluster = np.where(labels == np.argmax(np.bincount(labels)))[0][:1000]
    plans = {
        "one": [shuffled],
        "row1": [shuffled[:1], shuffled[1:]],
        "cluster1000": [cluster, shuffled[~np.isin(shuffled, cluster)]],
        "adds1000": [shuffled[i : i + 1000] for i in range(0, len(x), 1000)],
        "sorted1000": [by_cluster[i : i + 1000] for i in range(0, len(x), 1000)],
    }
    search = {"ef": 64} if kind == "hnsw" else {}
    for quant in quants:
        for feed in feeds:
            idx = vidx.Index(x.shape[1], "cosine", kind=kind, quant=quant, threads=2)
            start = time.perf_counter()
            for part in plans[feed]:
                idx.add(x[part], ids=part.astype(np.int64))
            seconds = time.perf_counter() - start
            found = idx.search(q, k=10, **search)[1]
            print(json.dumps({"data": name, "kind": kind, "quant": quant, "feed": feed,
                              "recall": round(recall(found, truth), 4), "add_s": round(seconds, 2)}), flush=True)


if __name__ == "__main__":
    main()
