import sys, threading, time, numpy as np
sys.path.insert(0, sys.argv[1]); import vidx
dim=8
def vec(ids):
    ids=np.asarray(ids,dtype=np.int64); return (np.sin(np.outer(ids+1,np.arange(1,dim+1))*0.37)*3).astype(np.float32)
idx=vidx.Index(dim=dim,metric="l2",kind="hnsw",M=8,ef_construction=40,threads=1)
idx.add(vec(np.arange(2000)),ids=np.arange(2000))
stop=time.time()+float(sys.argv[2]); bad=[0,0]
def writer():
    rng=np.random.default_rng(1); nid=100000
    while time.time()<stop:
        v=rng.choice(1000,20,replace=False)*2; idx.remove(v)
        new=np.arange(nid,nid+20); nid+=20; idx.add(vec(new),ids=new); idx.remove(new); idx.add(vec(v),ids=v)
def searcher(seed):
    rng=np.random.default_rng(seed)
    while time.time()<stop:
        q=(rng.standard_normal((1000,dim))*3).astype(np.float32)
        lims,D,I=idx.range_search(q,4.0)
        for i in range(len(q)):
            ids=I[lims[i]:lims[i+1]]; d=D[lims[i]:lims[i+1]]
            if len(ids)==0: continue
            true=((q[i]-vec(ids))**2).sum(-1)
            bad[0]+=int((np.abs(true-d)>1e-3*np.maximum(1,true)).sum())
        bad[1]+=1
ts=[threading.Thread(target=writer)]+[threading.Thread(target=searcher,args=(s,)) for s in range(2)]
[t.start() for t in ts]; [t.join() for t in ts]; print(sys.argv[1], "wrong", bad[0], "calls", bad[1])
