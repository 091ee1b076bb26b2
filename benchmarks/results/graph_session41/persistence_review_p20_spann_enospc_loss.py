# A SPANN add that fails with ENOSPC loses rows that were stored BEFORE it (and the loss is saved).
import numpy as np, vidx, os, sys
S="/tmp/review41/persistence/small"; P="/tmp/review41/persistence/w20"; os.makedirs(P,exist_ok=True)
for f in os.listdir(S): os.remove(S+"/"+f)
X=np.random.default_rng(0).standard_normal((6000,16)).astype(np.float32)
idx=vidx.Index(16,"l2",kind="spann",path=S+"/post.bin",posting_limit=64); idx.add(X[:3000],progress=False)
def check(ix,tag):
    bad_get=[]; 
    for i in range(3000):
        try: ix.get([i])
        except Exception as e: bad_get.append(i); err=e
    D,I=ix.search(X[:3000],k=1,nprobe=10**6)
    miss=[i for i in range(3000) if I[i,0]!=i]
    ph=[i for i in range(3000,3250) if i in ix]
    print(f"{tag}: phantom ids of the failed add present: {len(ph)}; len(ids())={len(ix.ids())}")
    print(f"{tag}: len={len(ix)} get() fails for {len(bad_get)} of the 3000 stored rows"+(f" ({type(err).__name__}: {err})" if bad_get else "")+f"; exhaustive self-search misses {len(miss)} {miss[:5]}",flush=True)
check(idx,"before")
if sys.argv[1]=="fail":
    fd=os.open(S+"/filler",os.O_WRONLY|os.O_CREAT)
    leave=int(sys.argv[2])*4096 if len(sys.argv)>2 else 0
    try:
        while os.statvfs(S).f_bavail*4096 > leave+65536: os.write(fd,b"\0"*65536)
        while os.statvfs(S).f_bavail*4096 > leave: os.write(fd,b"\0"*4096)
    except OSError: pass
    os.close(fd)
try: idx.add(X[3000:3250],ids=np.arange(3000,3250)); print("add ok")
except OSError as e: print("add raised:",e)
if os.path.exists(S+"/filler"): os.remove(S+"/filler")
check(idx,"after")
idx.save(P+"/x.spann"); del idx
check(vidx.load(P+"/x.spann"),"saved+reloaded")
