import os, sys, time, h5py, numpy as np
sys.path.insert(0, os.environ.get("VIDX_PACKAGE", "/tmp/ab/r33"))
import vidx
with h5py.File("/root/.cache/vidx/wordnet-minilm-384-angular.hdf5") as f:
    Q = f["test"][:]
idx = vidx.load(sys.argv[1]); idx.threads = int(sys.argv[2])
def tlb():
    for line in open("/proc/interrupts"):
        if line.strip().startswith(("TLB", "CAL", "RES")):
            print("   ", line.split()[:3], end="")
    print()
idx.search(Q[:100], k=10, ef=24)
tlb()
for _ in range(3):
    t = time.perf_counter(); idx.search(Q, k=10, ef=24); print("qps %.0f" % (len(Q) / (time.perf_counter() - t)))
tlb()
