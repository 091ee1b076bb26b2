# Minimal: a SPANN add that fails with ENOSPC leaves the index inconsistent.
import numpy as np, vidx, os
S="/tmp/review41/persistence/small"   # tmpfs -o size=2m
for f in os.listdir(S): os.remove(S+"/"+f)
X=np.random.default_rng(0).standard_normal((4500,16)).astype(np.float32)
idx=vidx.Index(16,"l2",kind="spann",path=S+"/post.bin"); idx.add(X[:4000],progress=False)
fd=os.open(S+"/filler",os.O_WRONLY|os.O_CREAT)          # fill the filesystem
try:
    while True: os.write(fd,b"\0"*4096)
except OSError: pass
os.close(fd)
try: idx.add(X[4000:4500], ids=np.arange(4000,4500))
except OSError as e: print("add failed:", e)
print("len", len(idx), "| 4000 in idx:", 4000 in idx, "| ids() has 4000:", 4000 in set(idx.ids().tolist()))
for name,fn in [("get([0..3999])", lambda: idx.get(np.arange(4000))[0].shape),
                ("get([4000])", lambda: idx.get([4000])),
                ("search", lambda: idx.search(X[:5],k=3,nprobe=1000)[1][:,0].tolist()),
                ("remove([4000])", lambda: idx.remove([4000]))]:
    try: print(name, "->", fn())
    except Exception as e: print(name, "->", type(e).__name__, e)
os.remove(S+"/filler")
try: idx.add(X[4000:4500], ids=np.arange(4000,4500)); print("retry add ok", len(idx))
except Exception as e: print("retry add ->", type(e).__name__, e)
