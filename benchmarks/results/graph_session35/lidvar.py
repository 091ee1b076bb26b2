import numpy as np, h5py, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__))); from lid import lid_mle
for name in sys.argv[1:]:
    with h5py.File(os.path.expanduser(f"~/.cache/vidx/{name}.hdf5")) as f:
        tr = f["train"][:]; m = f.attrs["distance"]
    vals = [lid_mle(tr, m, nq=128, seed=s)[0] for s in range(8)]
    print(name, " ".join(f"{v:.1f}" for v in vals), flush=True)
