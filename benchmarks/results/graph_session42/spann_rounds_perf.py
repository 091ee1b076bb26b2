import numpy as np, vidx, os, tempfile, time, sys
rng=np.random.default_rng(0)
n=40000
C=rng.standard_normal((40,16)).astype(np.float32)*10
X=(C[rng.integers(0,40,n)]+rng.standard_normal((n,16))).astype(np.float32)
Q=(C[rng.integers(0,40,50)]+rng.standard_normal((50,16))).astype(np.float32)
d=tempfile.mkdtemp()
quant=sys.argv[1]
idx=vidx.Index(16,'l2','spann',path=os.path.join(d,'p'),quant=quant,threads=2,seed=1)
idx.add(X,progress=False)
filt=rng.choice(n,n//20,replace=False).astype(np.int64)
for k,f,npb in [(10,None,None),(1000,None,None),(1000,filt,None),(1000,filt,256),(3000,filt,256),(10,filt,256)]:
    idx.reset_stats(); t=time.perf_counter()
    D,I=idx.search(Q,k=k,filter=f,nprobe=npb)
    t=time.perf_counter()-t; s=idx.stats()
    print(quant,k,'filt' if f is not None else '-',npb, s['lists_read'], s['entries_scanned'], int((I>=0).sum()), f"{t*1000:.0f}ms")
