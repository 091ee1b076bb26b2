import os, sys, h5py
sys.path.insert(0, sys.argv[1])
import vidx
with h5py.File("/root/.cache/vidx/fashion-mnist-784-euclidean.hdf5") as f: X = f["train"][:]
idx = vidx.Index(dim=784, metric="l2", seed=int(sys.argv[3]) if len(sys.argv) > 3 else 0); idx.add(X); idx.save(sys.argv[2])
