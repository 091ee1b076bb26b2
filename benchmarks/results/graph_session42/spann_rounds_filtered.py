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
filt=np.sort(rng.choice(n,n//20,replace=False).astype(np.int64))
G=filt[((Q[:,None]-X[filt][None])**2).sum(-1).argsort(1)[:,:10]]
for npb in [None,256]:
  for rr in [None,1000]:
    idx.reset_stats(); t=time.perf_counter()
    D,I=idx.search(Q,k=10,filter=filt,nprobe=npb,rerank=rr)
    t=time.perf_counter()-t; s=idx.stats()
    rec=np.mean([len(set(I[i])&set(G[i]))/10 for i in range(len(Q))])
    print(quant,npb,rr, s['lists_read'], rec, f"{t*1000:.0f}ms")
