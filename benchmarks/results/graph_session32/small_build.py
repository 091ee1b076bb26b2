import sys, h5py, numpy as np
sys.path.insert(0, sys.argv[1]); import vidx
with h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5") as f: X = f["train"][:int(sys.argv[2])]
ix = vidx.Index(dim=384, metric="cosine", kind="hnsw", quant=sys.argv[3], M=16, ef_construction=200); ix.threads = 2; ix.add(X); ix.save(sys.argv[4])
