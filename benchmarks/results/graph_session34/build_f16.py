import os, sys, h5py, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/r33"))
import vidx
with h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5") as f:
    X = f["train"][:]
idx = vidx.Index(dim=X.shape[1], metric="cosine", kind="hnsw", quant="f16")
idx.add(X)
idx.save("/tmp/s31/wn_f16.vidx")
print(idx.memory_usage() if hasattr(idx, "memory_usage") else "")
