"""The 50,000 x 768 l2 gaussian mixture of graph.md section 22, as an ann-benchmarks HDF5 file in
vidx's dataset cache (~/.cache/vidx/gmm-50k-768-euclidean.hdf5), so ab_saved.py can read it:
rows in cluster order, 1000 queries from the same mixture, exact top-100 neighbours.

    python benchmarks/make_gmm_768.py
"""
import os

import h5py
import numpy as np

from default_quant import mixture

N, DIM, QUERIES, SEED = 50000, 768, 1000, 7


def main():
    x, q = mixture(N, DIM, QUERIES, SEED)[:2]
    squared = (q ** 2).sum(1)[:, None] - 2 * q @ x.T + (x ** 2).sum(1)[None]
    neighbors = np.argsort(squared, axis=1)[:, :100]
    path = os.path.expanduser("~/.cache/vidx/gmm-50k-768-euclidean.hdf5")
    with h5py.File(path, "w") as f:
        f.attrs["distance"] = "euclidean"
        f["train"], f["test"], f["neighbors"] = x, q, neighbors
    print(path, x.shape, q.shape)


if __name__ == "__main__":
    main()
